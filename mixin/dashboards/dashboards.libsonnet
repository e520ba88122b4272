// The two dashboards: a fleet overview and a per-service drill-down, linked to
// each other (data links carry cluster, service and event) and to the log
// lines in Loki Explore (the stream labels Fluent Bit sets in deploy/).
local lib = import '../lib.libsonnet';
local g = import 'grafana.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local cl = c.clusterLabel,

    local b = c.brokerLabel,
    local w = c.rateWindow,
    local multi = c.showMultiCluster,
    // Legends name the cluster only where more than one is shown.
    local legend(text) = (if multi then '{{%s}} / ' % cl else '') + text,

    // Recorded series: per broker (with the broker variable) or per (cluster, service).
    local perBroker(metric, service='=~"$service"', extra='') =
      '%s{%s}' % [metric, std.join(', ', ['%s=~"$cluster"' % cl, '%s=~"$%s"' % [b, b], 'service' + service] + (if extra == '' then [] else [extra]))],
    local perService(metric, service='=~"$service"', extra='') =
      '%s{%s}' % [metric, std.join(', ', ['%s=~"$cluster"' % cl, 'service' + service] + (if extra == '' then [] else [extra]))],
    local perAppender(metric) =
      '%s{%s}' % [metric, std.join(', ', ['%s=~"$cluster"' % cl, '%s=~"$%s"' % [b, b]])],

    // The broker error ratio exactly as RobustMQBrokerHighErrorRate sees it: the
    // recorded ratio, shown only where the alert's guard holds.
    local guardedRatio(service) = |||
      %(ratio)s
      and
      %(errors)s * %(s)d >= %(min)d
    ||| % {
      ratio: perBroker('service_instance:robustmq_log_errors:ratio_rate%s' % w, service),
      errors: perBroker('service_instance:robustmq_log_errors:rate%s' % w, service),
      s: lib.seconds(w),
      min: c.errorRatioMinErrors,
    },
    local fastPairs = [p for p in c.burnRateWindows if p.severity == 'critical'],
    local ratioThresholds = [
      { color: 'orange', value: c.brokerErrorRatio },
    ],
    // Steps ascending, as Grafana applies them: the highest factor is red.
    local burnFactors = std.sort([p.factor for p in fastPairs]),
    local burnThresholds = [
      { color: if i == std.length(burnFactors) - 1 then 'red' else 'orange', value: burnFactors[i] }
      for i in std.range(0, std.length(burnFactors) - 1)
    ],
    local pct(x) = '%g%%' % (x * 100),
    local guardText = "Errors over the operational levels (%s), shown only while the broker logged at least %d errors in %s, the alert's guard. Dashed line: %s, RobustMQBrokerHighErrorRate's threshold (which also needs %gx the ratio of the service's other brokers)." % [std.join('|', c.operationalLevels), c.errorRatioMinErrors, w, pct(c.brokerErrorRatio), c.brokerOutlierFactor],

    // The cluster goes as the current variable (a row or series has no cluster
    // label in a single-cluster Prometheus, and a missing field would pass through
    // as literal text).
    local eventsDashboardLink(service, event=null) = {
      title: 'Events of %s' % service,
      url: '/d/robustmq-log-events/robustmq-log-events?${__url_time_range}&${cluster:queryparam}&var-datasource=${datasource}&var-loki=${loki}&var-service=%s%s' % [
        service,
        if event == null then '' else '&var-event=' + event,
      ],
    },
    // The cluster as the variable's regex: Fluent Bit sets the stream label.
    local lokiLink(title, streamMatchers, event=null) = {
      local logql = '{%s, level="error"}%s' % [
        std.join(', ', [c.lokiSelector, '%s=~"${cluster:regex}"' % cl] + streamMatchers),
        if event == null then '' else ' | json | fields_event="%s"' % event,
      ],
      title: title,
      url: '/explore?schemaVersion=1&orgId=1&panes=' + lib.urlEncode(std.manifestJsonMinified({
        logs: {
          datasource: '${loki}',
          queries: [{ refId: 'A', datasource: { type: 'loki', uid: '${loki}' }, expr: logql, queryType: 'range' }],
          range: { from: '${__from}', to: '${__to}' },
        },
      })),
      targetBlank: true,
    },
    // For a series that keeps the scrape's topology labels.
    local seriesLinks(withEvent=false) = [
      eventsDashboardLink('${__field.labels.service}', if withEvent then '${__field.labels.event}'),
      lokiLink('Error log lines of ${__field.labels.pod}',
               ['namespace="${__field.labels.namespace}"', 'pod="${__field.labels.pod}"'],
               if withEvent then '${__field.labels.event}'),
    ],

    local vars(serviceAll=true, withEvent=false) = [
      g.datasourceVariable('datasource', 'Data source', 'prometheus'),
      g.datasourceVariable('loki', 'Logs (Loki)', 'loki'),
      g.queryVariable('cluster', 'Cluster', 'label_values(%s, %s)' % [lib.series(c, 'up'), cl], hide=!multi),
      // The broker id, stable across rollouts (instance is a pod IP and changes).
      g.queryVariable(b, 'Broker', 'label_values(%s, %s)' % [lib.series(c, 'robustmq_log_label_limit', '%s=~"$cluster"' % cl), b]),
      g.queryVariable('service', 'Service', 'label_values(%s, service)' % perBroker('service_instance:robustmq_log_operational:rate%s' % w, '=~".*"'), serviceAll),
      g.queryVariable('level', 'Level', 'label_values(%s, level)' % perBroker('service_instance_level:robustmq_log_events:rate%s' % w, if serviceAll then '=~"$service"' else '="$service"')),
    ] + (if withEvent then [
           g.queryVariable('event', 'Event', 'label_values(%s, event)' % perService(perEvent, '="$service"')),
         ] else []),

    local fleetRate(metric, extra='') = perService(metric, extra=extra),
    // Events per (cluster, service, level, event name), over all brokers.
    local perEvent = 'cluster_service_level_event:robustmq_log_events:rate%s' % w,
    local evalSeconds = lib.seconds(c.evaluationInterval),

    'robustmq-log-overview.json': g.dashboard(
      c,
      'robustmq-log-overview',
      'RobustMQ / Log events overview',
      'Every tracing event of the RobustMQ brokers, counted in-process: rates by level and service, the error budget and burn rates the alerts watch, the top error events, the label caps and the log pipeline. Every panel reads recorded series (alerts/robustmq-logs.rules.yml). Fleet panels follow the cluster and service variables; per-broker panels the broker variable too.',
      vars(),
      [
        g.timeseries(
          'Events per second by level',
          'All tracing events counted in-process, by level, over the selected brokers.',
          [g.target('sum by (%s) (%s)' % [if multi then cl + ', level' else 'level', perBroker('service_instance_level:robustmq_log_events:rate%s' % w, extra='level=~"$level"')], legend('{{level}}'))],
          'suffix: events/s',
          g.grid(0, 0, 12, 8),
          overrides=g.levelOverrides(c.levelColors),
        ),
        g.timeseries(
          'Burn rate per service (%s and %s windows)' % [fastPairs[0].short, fastPairs[0].long],
          'The error ratio over the operational levels (%s) divided by the error budget (%s): 1 spends the budget exactly over its period. Dashed lines: %s, the critical RobustMQHighErrorRate factors (both windows of a pair must exceed it).' % [std.join('|', c.operationalLevels), pct(c.errorBudget), std.join(' and ', ['%gx (%s/%s)' % [p.factor, p.long, p.short] for p in fastPairs])],
          [
            g.target('%s / %g' % [fleetRate('cluster_service:robustmq_log_errors:ratio_rate%s' % win), c.errorBudget], legend('{{service}} (%s)' % win))
            for win in [fastPairs[0].short, fastPairs[0].long]
          ],
          'short',
          g.grid(12, 0, 12, 8),
          links=[eventsDashboardLink('${__field.labels.service}')],
          thresholds=burnThresholds,
        ),
        g.table(
          'Error budget left (%s)' % c.errorBudgetPeriod,
          'The share of the error budget (%s of the operational events over %s) not yet spent, per service: 1 - error ratio over the period / budget. Below 0 the objective is missed.' % [pct(c.errorBudget), c.errorBudgetPeriod],
          g.target(|||
            1 - (
              sum_over_time(%(errors)s[%(p)s])
              /
              sum_over_time(%(ops)s[%(p)s])
            ) / %(budget)g
          ||| % { errors: fleetRate('cluster_service:robustmq_log_errors:rate%s' % w), ops: fleetRate('cluster_service:robustmq_log_operational:rate%s' % w), p: c.errorBudgetPeriod, budget: c.errorBudget }, instant=true),
          g.grid(0, 8, 8, 8),
          unit='percentunit',
        ),
        g.timeseries(
          'Error ratio per service, every alert window',
          'The recorded error ratio of each window a burn-rate pair reads (%s), per service.' % std.join(', ', $.ratioWindows),
          [g.target(perService('', extra='__name__=~"cluster_service:robustmq_log_errors:ratio_rate(%s)"' % std.join('|', $.ratioWindows)), legend('{{service}} ({{__name__}})'))],
          'percentunit',
          g.grid(8, 8, 16, 8),
        ),
        g.table(
          'Top error events',
          'The 10 error event names logged most in the selected time range, over all brokers of the cluster (the recorded rate averaged over the range, times its length). "%s" is a service\'s errors from calls without an event field (every crate not yet migrated to docs/log-format.md). Click a row for the event on the events dashboard or its log lines in Loki.' % c.unstructuredEvent,
          g.target('topk(10, avg_over_time(%s[$__range]) * $__range_s)' % fleetRate('cluster_service_event:robustmq_log_errors:rate%s' % w), instant=true),
          g.grid(0, 16, 12, 8),
          links=[
            eventsDashboardLink('${__data.fields.service}', '${__data.fields.event}'),
            lokiLink('Log lines of ${__data.fields.event}', [], '${__data.fields.event}'),
          ],
          decimals=0,
        ),
        g.timeseries(
          'Events per second by service',
          "All events per service, over the selected brokers. Click a series for the service's events.",
          [g.target('sum by (%s, service) (%s)' % [cl, perBroker('service_instance_level:robustmq_log_events:rate%s' % w)], legend('{{service}}'))],
          'suffix: events/s',
          g.grid(12, 16, 12, 8),
          links=[eventsDashboardLink('${__field.labels.service}')],
        ),
        g.timeseries(
          'Error ratio per service and broker (as RobustMQBrokerHighErrorRate sees it)',
          guardText + ' Click a series for its events or its error log lines.',
          [g.target(guardedRatio('=~"$service"'), legend('{{service}} on {{%s}}' % b))],
          'percentunit',
          g.grid(0, 24, 12, 8),
          links=seriesLinks(),
          thresholds=ratioThresholds,
        ),
        g.timeseries(
          'Structured share per service (log standard migration)',
          'Share of events that carry an event field (not "unstructured"): the progress of docs/log-format.md.',
          [g.target(fleetRate('cluster_service:robustmq_log_structured:ratio_rate%s' % w), legend('{{service}}'))],
          'percentunit',
          g.grid(12, 24, 12, 8),
        ),
        g.timeseries(
          'Events counted as overflow',
          'Events whose name was folded into "overflow" (max_events_per_service reached) per second; any value above 0 is RobustMQLogLabelOverflow.',
          [g.target(perBroker('service_instance:robustmq_log_label_overflow:rate%s' % w), legend('{{service}} on {{%s}}' % b))],
          'suffix: events/s',
          g.grid(0, 32, 12, 8),
        ),
        g.timeseries(
          'Distinct event names per service and broker, share of the cap',
          'Event names a service has logged on a broker (reserved values left out), as a share of the cap the broker exports (robustmq_log_label_limit{kind="events_per_service"}): the dashed line at %s is RobustMQLogEventNamesNearLimit.' % pct(c.eventsNearCapRatio),
          [g.target(perBroker('service_instance:robustmq_log_event_names:ratio_limit'), legend('{{service}} on {{%s}}' % b))],
          'percentunit',
          g.grid(12, 32, 12, 8),
          thresholds=[
            { color: 'orange', value: c.eventsNearCapRatio },
            { color: 'red', value: 1 },
          ],
        ),
        g.table(
          'RobustMQ log alerts (pending and firing)',
          'The alerts of this mixin now, in the selected clusters; the runbook of each is in docs/runbooks.md.',
          g.target('max by (%s, alertname, alertstate, severity, service, %s, event, appender) (ALERTS{alertname=~"RobustMQ.*", %s=~"$cluster"})' % [cl, b, cl], instant=true),
          g.grid(0, 40, 24, 8),
        ),
        // The log pipeline row: what the appenders write, beside what the layer counts
        // ("Events per second by level", the first panel).
        g.timeseries(
          'Log pipeline: lines written per appender',
          'Lines the log appenders wrote per second (robustmq_log_appender_lines_total): compare with the events counted by the layer, "Events per second by level" above.',
          [g.target('sum by (%s, appender) (%s)' % [cl, perAppender('instance_appender:robustmq_log_appender_lines:rate%s' % w)], legend('{{appender}}'))],
          'suffix: lines/s',
          g.grid(0, 48, 6, 8),
        ),
        g.timeseries(
          'Log pipeline: bytes written per appender',
          'Bytes the log appenders wrote per second (robustmq_log_appender_bytes_total).',
          [g.target('sum by (%s, appender) (%s)' % [cl, perAppender('instance_appender:robustmq_log_appender_bytes:rate%s' % w)], legend('{{appender}}'))],
          'Bps',
          g.grid(6, 48, 6, 8),
        ),
        g.timeseries(
          'Log pipeline: dropped lines per appender',
          'Lines a non-blocking appender dropped because its buffer was full, per second and broker: any value above 0 is RobustMQLogAppenderDroppingLines.',
          [g.target(perAppender('instance_appender:robustmq_log_appender_dropped_lines:rate%s' % w), legend('{{appender}} on {{%s}}' % b))],
          'suffix: lines/s',
          g.grid(12, 48, 6, 8),
        ),
        g.timeseries(
          'Log pipeline: suppressed lines per appender',
          'Lines the per-call-site line limit of an appender did not write (a flood, or a call site over its limit), per second and broker; the events stay counted, and lines + suppressed + dropped = events. Above 0 for %s is RobustMQLogAppenderSuppressingLines; the log_lines_suppressed lines name the call site.' % c.alertFor.appenderSuppressingLines,
          [g.target(perAppender('instance_appender:robustmq_log_appender_suppressed_lines:rate%s' % w), legend('{{appender}} on {{%s}}' % b))],
          'suffix: lines/s',
          g.grid(18, 48, 6, 8),
        ),
      ],
    ),

    'robustmq-log-events.json': g.dashboard(
      c,
      'robustmq-log-events',
      'RobustMQ / Log events by service',
      'Drill-down into one service: every event name by level, its error events per broker, the error ratio and the history of chosen events, with links to the log lines. Every panel reads recorded series (alerts/robustmq-logs.rules.yml); the event-name panels sum all brokers of the cluster.',
      vars(serviceAll=false, withEvent=true),
      [
        g.timeseries(
          'Event rate by name and level',
          'Every event name of the service, per second, over all brokers of the cluster (the recorded %s rate; the table and ratio below are per broker). Colours by level.' % w,
          [g.target(perService(perEvent, '="$service"', 'level=~"$level", event=~"$event"'), legend('{{event}} ({{level}})'))],
          'suffix: events/s',
          g.grid(0, 0, 24, 9),
          overrides=g.levelOverrides(c.levelColors, suffix=true),
        ),
        g.table(
          'Error events per broker',
          'Error events logged in the selected time range, per broker (the recorded rate averaged over the range, times its length). Click a row for its log lines in Loki.',
          g.target('sum by (%s, namespace, pod, %s, event) (avg_over_time(%s[$__range])) * $__range_s' % [cl, b, perBroker('service_instance_event:robustmq_log_errors:rate%s' % w, '="$service"', 'event=~"$event"')], instant=true),
          g.grid(0, 9, 12, 9),
          links=[lokiLink('Log lines of ${__data.fields.event} on ${__data.fields.pod}',
                          ['namespace="${__data.fields.namespace}"', 'pod="${__data.fields.pod}"'],
                          '${__data.fields.event}')],
          decimals=0,
        ),
        g.timeseries(
          'Error ratio per broker (as RobustMQBrokerHighErrorRate sees it)',
          guardText + ' Click a series for its error log lines.',
          [g.target(guardedRatio('="$service"'), legend('{{%s}}' % b))],
          'percentunit',
          g.grid(12, 9, 12, 9),
          links=seriesLinks(),
          thresholds=ratioThresholds,
        ),
        g.timeseries(
          'Event history (events per interval)',
          "How many of the selected events were logged in each bar's interval, over all brokers: the recorded %(w)s rates of the bar's interval (the step, $__interval, at least the %(e)s evaluation interval) summed and multiplied by %(s)d s, the interval each sample stands for. Bars do not overlap and add up to the total; an event is spread over the %(w)s after it, so a bar may show a fraction." % { w: w, e: c.evaluationInterval, s: evalSeconds },
          [g.target('sum by (event, level) (sum_over_time(%s[$__interval]) * %d)' % [perService(perEvent, '="$service"', 'level=~"$level", event=~"$event"'), evalSeconds], '{{event}} ({{level}})')],
          'short',
          g.grid(0, 18, 24, 9),
          overrides=g.levelOverrides(c.levelColors, suffix=true),
          bars=true,
          axisLabel='events per interval',
          interval=c.evaluationInterval,
        ),
      ],
    ),
  },
}
