// Alerts: the mixin's prometheusAlerts, group robustmq-logs.alerts. One name per
// condition; warning and critical variants of a condition share the name and
// differ in `severity`, so Alertmanager's usual inhibition (critical silences
// warning with equal labels) works. Every alert reads the series that
// prometheusRules records (rules.libsonnet), never a raw counter but `up`.
local lib = import 'lib.libsonnet';

{
  local c = $._config,
  local cl = c.clusterLabel,
  local fleet = lib.fleet(c),
  local w = c.rateWindow,
  local annotations(name, summary, description) = {
    summary: summary,
    description: description,
    runbook_url: lib.runbookURL(c, name),
  },
  local percent(x) = '%g%%' % (x * 100),
  local inCluster = '{{ with $labels.%s }} in cluster {{ . }}{{ end }}' % cl,

  // Errors of a (cluster, service) in the last `window`: the base rate itself over
  // the base window; over a longer one the recorded rates summed and multiplied by
  // the evaluation interval (each base-rate sample covers one interval's worth of
  // the window's errors). A sum, not an average over the samples present, so
  // minutes before the service's first error count as 0 and a burst on a series
  // that appeared with it is not mistaken for a steady rate.
  local errorsIn(window) =
    if window == w
    then 'cluster_service:robustmq_log_errors:rate%s * %d' % [w, lib.seconds(w)]
    else 'sum_over_time(cluster_service:robustmq_log_errors:rate%s[%s]) * %d' % [w, window, lib.seconds(c.evaluationInterval)],

  // One burn-rate pair: both windows above factor x budget, and the guard in both
  // windows: at least errorRatioMinErrors errors per short window, in the short
  // window and on average over the long one (errorRatioMinErrors x long/short
  // errors there). A burst of a handful of errors fills the short window but is
  // long/short times too few for the long one, so it does not page at all,
  // rather than page and resolve when it leaves the short window.
  local pair(p) = |||
    (
      cluster_service:robustmq_log_errors:ratio_rate%(long)s > %(threshold)g
      and
      cluster_service:robustmq_log_errors:ratio_rate%(short)s > %(threshold)g
      and on (%(fleet)s)
      %(shortErrors)s >= %(min)d
      and on (%(fleet)s)
      %(longErrors)s >= %(longMin)g
    )
  ||| % {
    long: p.long,
    short: p.short,
    threshold: p.factor * c.errorBudget,
    fleet: fleet,
    shortErrors: errorsIn(p.short),
    longErrors: errorsIn(p.long),
    min: c.errorRatioMinErrors,
    longMin: c.errorRatioMinErrors * lib.seconds(p.long) / lib.seconds(p.short),
  },
  local burn(severity, forDuration) = {
    local pairs = [p for p in c.burnRateWindows if p.severity == severity],
    alert: 'RobustMQHighErrorRate',
    comment:: 'The error-rate page and ticket: multi-window, multi-burn-rate on the fleet of each (cluster, service), over an error budget of %s of the operational events: %s; each pair with at least %d errors per short window in both windows. One alert per service, however many brokers; RobustMQBrokerHighErrorRate names a broker.' % [
      percent(c.errorBudget),
      std.join('; ', ['%s and %s above %gx' % [p.long, p.short, p.factor] for p in pairs]),
      c.errorRatioMinErrors,
    ],
    expr: std.join('or\n', [pair(p) for p in pairs]),
    'for': forDuration,
    labels: { severity: severity },
    annotations: annotations(
      'RobustMQHighErrorRate',
      if severity == 'critical'
      then 'A RobustMQ service burns its error budget fast enough to exhaust it within days.'
      else 'A RobustMQ service burns its error budget faster than it lasts.',
      '{{ $labels.service }}%s logs {{ $value | humanizePercentage }} of its operational events (%s) at error level over the long window of a pair (%s the %s error budget, both windows).' % [
        inCluster,
        std.join('|', c.operationalLevels),
        std.join(' or ', ['%s/%s above %gx' % [p.long, p.short, p.factor] for p in pairs]),
        percent(c.errorBudget),
      ],
    ),
  },

  alertRules:: [
    burn('critical', c.alertFor.highErrorRateCritical),
    burn('warning', c.alertFor.highErrorRateWarning),
    {
      alert: 'RobustMQBrokerHighErrorRate',
      // Why the rest of the fleet and not the whole fleet: with n brokers of equal
      // volume, one at ratio r and the others at 0, the fleet's ratio is r/n, so
      // "r > 3 x the fleet's ratio" is "r > 3r/n": impossible for n <= 3, the
      // operator's default replica counts. Against the others (the fleet's errors
      // and operational events less the broker's own), the others' ratio is 0
      // and any r above brokerErrorRatio fires, with 2 brokers as with 100. A
      // fleet all at r is r against r: silent, the fleet alert's. A single broker
      // has no others: 0/0 is NaN, the comparison drops it, and the fleet alert
      // names its service.
      comment:: "One broker well above the rest of its service's fleet (the other brokers, itself left out: also with 2 or 3 brokers); a whole fleet at a high ratio is RobustMQHighErrorRate, not one of these per broker.",
      expr: |||
        service_instance:robustmq_log_errors:ratio_rate%(w)s > %(ratio)g
        and
        service_instance:robustmq_log_errors:ratio_rate%(w)s
          > %(factor)g * (
            (cluster_service:robustmq_log_errors:rate%(w)s - on (%(fleet)s) group_right () service_instance:robustmq_log_errors:rate%(w)s)
            /
            (cluster_service:robustmq_log_operational:rate%(w)s - on (%(fleet)s) group_right () service_instance:robustmq_log_operational:rate%(w)s)
          )
        and
        service_instance:robustmq_log_errors:rate%(w)s * %(s)d >= %(min)d
      ||| % { w: w, ratio: c.brokerErrorRatio, fleet: fleet, factor: c.brokerOutlierFactor, s: lib.seconds(w), min: c.errorRatioMinErrors },
      'for': c.alertFor.brokerHighErrorRate,
      labels: { severity: 'warning' },
      annotations: annotations(
        'RobustMQBrokerHighErrorRate',
        'One RobustMQ broker logs far more errors than the rest of its service.',
        '{{ $labels.service }} on broker {{ $labels.%s }} ({{ $labels.instance }})%s logs {{ $value | humanizePercentage }} of its operational events at error level over %s, above %s and %gx the ratio of the other brokers of its service.' % [c.brokerLabel, inCluster, w, percent(c.brokerErrorRatio), c.brokerOutlierFactor],
      ),
    },
    {
      alert: 'RobustMQNewErrorEvent',
      comment:: "An error event name that no broker of the cluster logged in the previous day: in a long-running process too (the history keeps events logged, not series that exist). One alert per (cluster, service, event); the errors of calls without an event field count as one event of their service, `unstructured`, so a service not yet migrated to event names alerts on its first errors in a day. Silent on a first deploy and after Prometheus lost its data: the `and on` clause needs the service's log metrics a full history ago.",
      expr: |||
        cluster_service_event:robustmq_log_errors:rate%(w)s * %(s)d > 0
        unless on (%(fleet)s, event)
          max_over_time(cluster_service_event:robustmq_log_errors:max_rate%(w)s_%(h)s[%(nw)s] offset %(nw)s)
        and on (%(fleet)s)
          max_over_time(cluster_service:robustmq_log_events:present_history_ago[%(nw)s] offset %(nw)s)
      ||| % { fleet: fleet, w: w, s: lib.seconds(w), h: c.newEventHistory, nw: c.newEventWindow },
      'for': c.alertFor.newErrorEvent,
      labels: { severity: 'info' },
      annotations: annotations(
        'RobustMQNewErrorEvent',
        'A RobustMQ service logs an error event that no broker logged in the day before.',
        '{{ $labels.service }}%s logged {{ if eq $labels.event "%s" }}errors without an event field (event "%s", calls not yet given an event name){{ else }}error event "{{ $labels.event }}"{{ end }} {{ $value | humanize }} times in the last %s across its brokers; no broker of the cluster logged it in the %s before.' % [inCluster, c.unstructuredEvent, c.unstructuredEvent, w, c.newEventHistory],
      ),
    },
    {
      alert: 'RobustMQStorageErrors',
      comment:: 'The error events of the storage services (%s), whatever their names. A rate, not a share of all events: 400 storage errors per second are as dangerous among 100,000 events per second as among 1,000.' % std.join(', ', c.storageServices),
      expr: 'cluster_service:robustmq_log_storage_errors:rate%s > %g\n' % [w, c.storageErrorRate],
      'for': c.alertFor.storageErrors,
      labels: { severity: 'critical' },
      annotations: annotations(
        'RobustMQStorageErrors',
        'A RobustMQ storage service keeps logging errors: acknowledged messages are at risk.',
        '{{ $labels.service }}%s logs {{ printf "%%.2f" $value }} storage errors per second across its brokers over %s (threshold %g/s).' % [inCluster, w, c.storageErrorRate],
      ),
    },
    {
      alert: 'RobustMQLogLabelOverflow',
      comment:: 'Event names past max_events_per_service, or services past max_services (counted under service="overflow"), per cluster and service.',
      expr: |||
        sum by (%(fleet)s) (service_instance:robustmq_log_label_overflow:rate%(w)s) > 0
        or
        sum by (%(fleet)s) (cluster_service_level:robustmq_log_events:rate%(w)s{service="%(overflow)s"}) > 0
      ||| % { fleet: fleet, w: w, overflow: c.overflowService },
      'for': c.alertFor.labelOverflow,
      labels: { severity: 'warning' },
      annotations: annotations(
        'RobustMQLogLabelOverflow',
        'RobustMQ log metrics fold new label values into "overflow".',
        '{{ $labels.service }}%s counts {{ printf "%%.2f" $value }} events per second as overflow: a call site puts unbounded values in the event or service field, or a cap (robustmq_log_label_limit) is too low.' % inCluster,
      ),
    },
    {
      alert: 'RobustMQLogEventNamesNearLimit',
      comment:: 'Distinct event names (reserved values left out, as the cap leaves them out) against the cap each broker exports, robustmq_log_label_limit{kind="events_per_service"}; the worst broker of each (cluster, service).',
      expr: |||
        max by (%(fleet)s) (service_instance:robustmq_log_event_names:ratio_limit) > %(ratio)g
      ||| % { fleet: fleet, ratio: c.eventsNearCapRatio },
      'for': c.alertFor.eventsNearCap,
      labels: { severity: 'warning' },
      annotations: annotations(
        'RobustMQLogEventNamesNearLimit',
        'A RobustMQ service approaches max_events_per_service distinct event names.',
        '{{ $labels.service }}%s has {{ $value | humanizePercentage }} of max_events_per_service distinct event names on its fullest broker (threshold %s); at the cap new names are counted as "overflow".' % [inCluster, percent(c.eventsNearCapRatio)],
      ),
    },
    {
      alert: 'RobustMQTargetDown',
      comment:: "A scrape target that fails, per cluster and instance (kubernetes-mixin's TargetDown, per target).",
      expr: '%s == 0\n' % lib.series(c, 'up'),
      'for': c.alertFor.targetDown,
      labels: { severity: 'warning' },
      annotations: annotations(
        'RobustMQTargetDown',
        'A RobustMQ broker cannot be scraped.',
        'Target {{ $labels.instance }} of job {{ $labels.job }}%s (pod {{ $labels.pod }}) has failed its scrapes for %s.' % [inCluster, c.alertFor.targetDown],
      ),
    },
    {
      alert: 'RobustMQLogMetricsAbsent',
      comment:: 'A target that is up but exports no log metrics: the layer is missing from its subscriber, or its metrics are served elsewhere. The overflow counter exists for every service the layer knows from its start.',
      expr: |||
        %(up)s == 1
        unless on (%(target)s)
        service_instance:robustmq_log_label_overflow:rate%(w)s
      ||| % { up: lib.series(c, 'up'), target: lib.labelList([cl] + c.targetLabels), w: w },
      'for': c.alertFor.logMetricsAbsent,
      labels: { severity: 'warning' },
      annotations: annotations(
        'RobustMQLogMetricsAbsent',
        'A RobustMQ broker is scraped but exports no log metrics.',
        'Target {{ $labels.instance }} of job {{ $labels.job }}%s (pod {{ $labels.pod }}) is up and exports no robustmq_log_* series: the log-metrics layer is not installed, or not on this endpoint.' % inCluster,
      ),
    },
    {
      alert: 'RobustMQLogTargetsAbsent',
      comment:: 'The selector matches no target at all: every other alert is blind. absent() has no labels to tell clusters apart; a cluster whose targets vanish from a central store is RobustMQTargetDown until its series go stale.',
      expr: 'absent(%s)\n' % lib.series(c, 'up'),
      'for': c.alertFor.targetsAbsent,
      labels: { severity: 'warning' },
      annotations: annotations(
        'RobustMQLogTargetsAbsent',
        'Prometheus scrapes no RobustMQ broker: the log alerts are blind.',
        'No target matches up{%s}: service discovery finds no broker, or the selector does not match the job name.' % c.selector,
      ),
    },
    {
      alert: 'RobustMQLogAppenderDroppingLines',
      comment:: 'A non-blocking log appender drops lines because its buffer is full (tracing_appender::non_blocking is lossy), per cluster, service and appender.',
      expr: |||
        sum by (%(fleet)s, appender) (instance_appender:robustmq_log_appender_dropped_lines:rate%(w)s) > 0
      ||| % { fleet: fleet, w: w },
      'for': c.alertFor.appenderDroppingLines,
      labels: { severity: 'warning' },
      annotations: annotations(
        'RobustMQLogAppenderDroppingLines',
        'A RobustMQ log appender drops log lines.',
        'Appender {{ $labels.appender }} of {{ $labels.service }}%s drops {{ printf "%%.2f" $value }} lines per second across its brokers: its non-blocking buffer is full, and those lines are lost.' % inCluster,
      ),
    },
    {
      alert: 'RobustMQLogAppenderSuppressingLines',
      comment:: 'The per-call-site line limit of an appender suppresses lines for %s, per cluster, service and appender: someone floods the broker (a client retrying a bad login), or a call site logs too much for its limit. The events stay counted; the lines are not written. A ticket, and only a sustained one: a burst the limit absorbs is what the limit is for.' % c.alertFor.appenderSuppressingLines,
      expr: |||
        sum by (%(fleet)s, appender) (instance_appender:robustmq_log_appender_suppressed_lines:rate%(w)s) > 0
      ||| % { fleet: fleet, w: w },
      'for': c.alertFor.appenderSuppressingLines,
      labels: { severity: 'warning' },
      annotations: annotations(
        'RobustMQLogAppenderSuppressingLines',
        'A RobustMQ log appender keeps suppressing log lines over its per-call-site limit.',
        'Appender {{ $labels.appender }} of {{ $labels.service }}%s suppresses {{ printf "%%.2f" $value }} lines per second across its brokers, for %s: a call site logs over its line limit, a flood or a chatty call site. The events are counted; its log_lines_suppressed lines name the call site.' % [inCluster, c.alertFor.appenderSuppressingLines],
      ),
    },
  ],

  prometheusAlerts+:: {
    groups+: [{
      name: 'robustmq-logs.alerts',
      comment:: 'The alerts, reading the records of robustmq-logs.rules and robustmq-logs.history (prometheusRules).',
      rules: $.alertRules,
    }],
  },
}
