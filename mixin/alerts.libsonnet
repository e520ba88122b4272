// Alerts. One name per condition; warning and critical variants of a condition
// share the name and differ in `severity`, so Alertmanager's usual inhibition
// (critical silences warning with equal labels) works.
local lib = import 'lib.libsonnet';

{
  prometheusAlerts+:: {
    local c = $._config,
    local events(extra='') = lib.series(c, 'robustmq_log_events_total', extra),
    local annotations(name, summary, description) = {
      summary: summary,
      description: description,
      runbook_url: lib.runbookURL(c, name),
    },
    local percent(x) = '%g%%' % (x * 100),

    // The error share per broker and service, guarded by a minimum error count.
    // It reads the raw counters (not the recording rule) so it is evaluated in
    // the same group, with no lag behind another group.
    local errorRatio(threshold) = |||
      sum without (level, event) (rate(%(errors)s[%(w)s]))
        / sum without (level, event) (rate(%(all)s[%(w)s]))
        > %(threshold)g
      and
      sum without (level, event) (increase(%(errors)s[%(w)s])) >= %(min)d
    ||| % { errors: events('level="error"'), all: events(), w: c.errorRatioWindow, threshold: threshold, min: c.errorRatioMinErrors },

    local highErrorRate(severity, threshold, forDuration) = {
      alert: 'RobustMQHighErrorRate',
      comment:: 'Both sides summed over event names before dividing; at least %d errors in the window, so a quiet service does not alert on one error.' % c.errorRatioMinErrors,
      expr: errorRatio(threshold),
      'for': forDuration,
      labels: { severity: severity },
      annotations: annotations(
        'RobustMQHighErrorRate',
        'A RobustMQ service logs more than %s of its events at error level.' % percent(threshold),
        '{{ $labels.service }} on {{ $labels.instance }} (node {{ $labels.%s }}) logged {{ $value | humanizePercentage }} of its events at error level over the last %s (%s threshold %s).' % [c.brokerLabel, c.errorRatioWindow, severity, percent(threshold)],
      ),
    },

    groups+: [
      {
        name: 'robustmq-logs.alerts',
        rules: [
          highErrorRate('warning', c.errorRatioWarning, c.alertFor.highErrorRateWarning),
          highErrorRate('critical', c.errorRatioCritical, c.alertFor.highErrorRateCritical),
          {
            alert: 'RobustMQNewErrorEvent',
            comment:: 'One alert per (cluster, service, event), however many brokers log it. No storm on a first deploy or after Prometheus lost its data: the `and on` clause needs the service\'s log metrics a full history ago. Cheap: it reads recorded per-cluster series, never a day of raw ones.',
            expr: |||
              cluster_service_event:robustmq_log_errors:increase5m > 0
              unless on (%(cluster)s, service, event)
                max_over_time(cluster_service_event:robustmq_log_errors:max_increase5m_1d[%(w)s] offset %(w)s)
              and on (%(cluster)s, service)
                max_over_time(service:robustmq_log_events:present_history_ago[%(w)s] offset %(w)s)
            ||| % { cluster: c.clusterLabel, w: c.newEventWindow },
            'for': c.alertFor.newErrorEvent,
            labels: { severity: 'info' },
            annotations: annotations(
              'RobustMQNewErrorEvent',
              'A RobustMQ service logs an error event it did not log in the day before.',
              '{{ $labels.service }} logged error event "{{ $labels.event }}" {{ $value | humanize }} times in 5 minutes across its brokers; it was not logged in the %s before.' % c.newEventHistory,
            ),
          },
          {
            alert: 'RobustMQStorageErrors',
            comment:: 'A share of the service\'s events, not a count: a count grows with traffic, and a healthy broker at 0.2% errors would cross it.',
            expr: |||
              sum without (level, event) (rate(%(storage)s[%(w)s]))
                / sum without (level, event) (rate(%(all)s[%(w)s]))
                > %(ratio)g
              and
              sum without (level, event) (increase(%(storage)s[%(w)s])) >= %(min)d
            ||| % {
              storage: events('level="error", event=~"%s"' % lib.alternatives(c.storageErrorEvents)),
              all: events(),
              w: c.storageErrorWindow,
              ratio: c.storageErrorRatio,
              min: c.storageErrorMinErrors,
            },
            'for': c.alertFor.storageErrors,
            labels: { severity: 'warning' },
            annotations: annotations(
              'RobustMQStorageErrors',
              'A RobustMQ service keeps logging storage errors.',
              '{{ $labels.service }} on {{ $labels.instance }} (node {{ $labels.%s }}): {{ $value | humanizePercentage }} of its events over the last %s were storage errors (threshold %s).' % [c.brokerLabel, c.storageErrorWindow, percent(c.storageErrorRatio)],
            ),
          },
          {
            alert: 'RobustMQLogLabelOverflow',
            comment:: 'Event names past max_events_per_service, or services past max_services.',
            expr: |||
              sum without (level, event) (increase(%s[10m])) > 0
              or
              sum without (level, event) (increase(%s[10m])) > 0
            ||| % [lib.series(c, 'robustmq_log_label_overflow_total'), events('service="%s"' % c.overflowService)],
            'for': c.alertFor.labelOverflow,
            labels: { severity: 'warning' },
            annotations: annotations(
              'RobustMQLogLabelOverflow',
              'RobustMQ log metrics fold new label values into "overflow".',
              '{{ $labels.service }} on {{ $labels.instance }} had {{ $value | humanize }} events counted as overflow in 10 minutes: a call site puts unbounded values in the event or service field, or the cap is too low.',
            ),
          },
          {
            alert: 'RobustMQLogEventNamesNearLimit',
            comment:: 'No metric exports the cap: _config.maxEventsPerService mirrors it. Distinct event values per broker and service, whatever their level.',
            expr: |||
              count without (event) (count without (level) (%s))
                > %d
            ||| % [events('service!="%s"' % c.overflowService), std.floor(c.maxEventsPerService * c.eventsNearCapRatio)],
            'for': c.alertFor.eventsNearCap,
            labels: { severity: 'warning' },
            annotations: annotations(
              'RobustMQLogEventNamesNearLimit',
              'A RobustMQ service approaches max_events_per_service distinct event names.',
              '{{ $labels.service }} on {{ $labels.instance }} has {{ $value }} distinct event names; at %d (max_events_per_service) new names are counted as "overflow".' % c.maxEventsPerService,
            ),
          },
          {
            alert: 'RobustMQLogMetricsAbsent',
            comment:: 'A broker (by its id, stable across rollouts) that exported log metrics within the window and exports none now: its target is down, gone from discovery, or the layer is missing. Or a target that is down and has not exported any within the window.',
            expr: |||
              (
                max by (%(cluster)s, job, %(broker)s) (max_over_time(instance:robustmq_log_events:rate5m[%(w)s]))
                unless on (%(cluster)s, job, %(broker)s)
                max by (%(cluster)s, job, %(broker)s) (instance:robustmq_log_events:rate5m)
              )
              or
              (
                max without () (%(up)s == 0)
                unless on (job, instance)
                max_over_time(instance:robustmq_log_events:rate5m[%(w)s])
              )
            ||| % { cluster: c.clusterLabel, broker: c.brokerLabel, w: c.absentWindow, up: lib.series(c, 'up') },
            'for': c.alertFor.logMetricsAbsent,
            labels: { severity: 'warning' },
            annotations: annotations(
              'RobustMQLogMetricsAbsent',
              'A RobustMQ broker no longer exports log metrics.',
              'Job {{ $labels.job }}: broker {{ with $labels.%s }}{{ . }}{{ else }}{{ $labels.instance }}{{ end }} exported log metrics within the last %s and exports none now (target down, gone, or the log-metrics layer is missing).' % [c.brokerLabel, c.absentWindow],
            ),
          },
        ],
      },
    ],
  },
}
