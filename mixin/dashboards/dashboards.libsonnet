// The two dashboards: a fleet overview and a per-service drill-down, linked to
// each other (data links carry cluster, service and event) and to the log
// lines in Loki Explore (the stream labels Fluent Bit sets in deploy/).
local lib = import '../lib.libsonnet';
local g = import 'grafana.libsonnet';

{
  grafanaDashboards+:: {
    local c = $._config,
    local cl = c.clusterLabel,

    // Every query: the mixin's selector, then the dashboard's variables.
    local filters(service='=~"$service"', level=true) =
      std.join(', ', [c.selector, '%s=~"$cluster"' % cl, 'job=~"$job"', 'instance=~"$instance"', 'service' + service]
                     + (if level then ['level=~"$level"'] else [])),
    local events(service='=~"$service"', level=true, extra='') =
      'robustmq_log_events_total{%s%s}' % [filters(service, level), if extra == '' then '' else ', ' + extra],
    local recorded(metric, service='=~"$service"', extra='') =
      '%s{%s%s}' % [metric, filters(service, false), if extra == '' then '' else ', ' + extra],

    // The error ratio exactly as RobustMQHighErrorRate sees it: the recorded
    // ratio, shown only where the alert's guard (errorRatioMinErrors errors in the
    // window) holds. rate5m x 300 s is the window's increase.
    local guardedRatio(service) = |||
      %(ratio)s
      and ignoring (level)
      %(errors)s * 300 >= %(min)d
    ||| % {
      ratio: recorded('service_instance:robustmq_log_errors:ratio_rate5m', service),
      errors: recorded('service_instance_level:robustmq_log_events:rate5m', service, 'level="error"'),
      min: c.errorRatioMinErrors,
    },
    local ratioThresholds = [
      { color: 'orange', value: c.errorRatioWarning },
      { color: 'red', value: c.errorRatioCritical },
    ],
    local pct(x) = '%g%%' % (x * 100),
    local guardText = 'Shown only while the broker logged at least %d errors in 5 minutes, the alert\'s guard: below that one error in a quiet service would read as a high ratio. Dashed lines: warning %s, critical %s (RobustMQHighErrorRate).' % [c.errorRatioMinErrors, pct(c.errorRatioWarning), pct(c.errorRatioCritical)],

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
    local lokiLink(title, streamMatchers, event=null) = {
      local logql = '{%s, level="error"}%s' % [
        std.join(', ', [c.lokiSelector] + streamMatchers),
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
      g.queryVariable('cluster', 'Cluster', 'label_values(robustmq_log_events_total{%s}, %s)' % [c.selector, cl]),
      g.queryVariable('job', 'Job', 'label_values(robustmq_log_events_total{%s, %s=~"$cluster"}, job)' % [c.selector, cl]),
      g.queryVariable('instance', 'Instance', 'label_values(robustmq_log_events_total{%s, %s=~"$cluster", job=~"$job"}, instance)' % [c.selector, cl]),
      g.queryVariable('service', 'Service', 'label_values(robustmq_log_events_total{%s, %s=~"$cluster", job=~"$job", instance=~"$instance"}, service)' % [c.selector, cl], serviceAll),
      g.queryVariable('level', 'Level', 'label_values(robustmq_log_events_total{%s}, level)' % filters(if serviceAll then '=~"$service"' else '="$service"', false)),
    ] + (if withEvent then [
           g.queryVariable('event', 'Event', 'label_values(robustmq_log_events_total{%s}, event)' % filters('="$service"')),
         ] else []),

    'robustmq-log-overview.json': g.dashboard(
      c,
      'robustmq-log-overview',
      'RobustMQ / Log events overview',
      'Every tracing event of the RobustMQ brokers, counted in-process: rates by level and service, the error ratio the alerts watch, the top error events, and the label caps.',
      vars(),
      [
        g.timeseries(
          'Events per second by level',
          'All tracing events counted in-process, by level.',
          [g.target('sum by (level) (rate(%s[$__rate_interval]))' % events(), '{{level}}')],
          'suffix: events/s',
          g.grid(0, 0, 12, 8),
          overrides=g.levelOverrides(c.levelColors),
        ),
        g.timeseries(
          'Error ratio per service and broker (as RobustMQHighErrorRate sees it)',
          guardText + ' Click a series for its events or its error log lines.',
          [g.target(guardedRatio('=~"$service"'), '{{service}} on {{instance}}')],
          'percentunit',
          g.grid(12, 0, 12, 8),
          links=seriesLinks(),
          thresholds=ratioThresholds,
        ),
        g.table(
          'Top error events',
          'The 10 error event names logged most in the selected time range, over all brokers. Click a row for the event on the events dashboard or its log lines in Loki.',
          g.target('topk(10, sum by (%s, namespace, service, event) (increase(%s[$__range])))' % [cl, events(level=false, extra='level="error"')], instant=true),
          g.grid(0, 8, 12, 8),
          links=[
            eventsDashboardLink('${__data.fields.service}', '${__data.fields.event}'),
            lokiLink('Log lines of ${__data.fields.event}', ['namespace="${__data.fields.namespace}"'], '${__data.fields.event}'),
          ],
          decimals=0,
        ),
        g.timeseries(
          'Events per second by service',
          'All events per service, over the selected brokers. Click a series for the service\'s events.',
          [g.target('sum by (%s, service) (rate(%s[$__rate_interval]))' % [cl, events()], '{{service}}')],
          'suffix: events/s',
          g.grid(12, 8, 12, 8),
          links=[eventsDashboardLink('${__field.labels.service}')],
        ),
        g.timeseries(
          'Structured share per service (log standard migration)',
          'Share of events that carry an event field (not "unstructured"): the progress of docs/log-format.md.',
          [g.target('sum by (%s, service) (rate(%s[$__rate_interval])) / sum by (%s, service) (rate(%s[$__rate_interval]))' % [cl, events(extra='event!="unstructured"'), cl, events()], '{{service}}')],
          'percentunit',
          g.grid(0, 16, 12, 8),
        ),
        g.timeseries(
          'Events counted as overflow',
          'Events whose name was folded into "overflow" (max_events_per_service reached) per second; any value above 0 is RobustMQLogLabelOverflow.',
          [g.target('sum by (%s, service, instance) (rate(robustmq_log_label_overflow_total{%s}[$__rate_interval]))' % [cl, filters(level=false)], '{{service}} on {{instance}}')],
          'suffix: events/s',
          g.grid(12, 16, 12, 8),
        ),
        g.timeseries(
          'Distinct event names per service and broker (limit %d)' % c.maxEventsPerService,
          'Event names a service has logged on a broker, against max_events_per_service (%d): the dashed line at %d%% is RobustMQLogEventNamesNearLimit.' % [c.maxEventsPerService, c.eventsNearCapRatio * 100],
          [g.target('count by (%s, instance, service) (count by (%s, instance, service, event) (%s))' % [cl, cl, events(level=false)], '{{service}} on {{instance}}')],
          'short',
          g.grid(0, 24, 12, 8),
          thresholds=[
            { color: 'orange', value: std.floor(c.maxEventsPerService * c.eventsNearCapRatio) },
            { color: 'red', value: c.maxEventsPerService },
          ],
        ),
        g.table(
          'RobustMQ log alerts (pending and firing)',
          'The alerts of this mixin now; the runbook of each is in docs/runbooks.md.',
          g.target('max by (alertname, alertstate, severity, service, instance, event) (ALERTS{alertname=~"RobustMQ.*", job=~"$job", instance=~"$instance"})', instant=true),
          g.grid(12, 24, 12, 8),
        ),
      ],
    ),

    'robustmq-log-events.json': g.dashboard(
      c,
      'robustmq-log-events',
      'RobustMQ / Log events by service',
      'Drill-down into one service: every event name by level, its error events per broker, the error ratio and the history of chosen events, with links to the log lines.',
      vars(serviceAll=false, withEvent=true),
      [
        g.timeseries(
          'Event rate by name and level',
          'Every event name of the service, per second. Colours by level.',
          [g.target('sum by (%s, service, event, level) (rate(%s[$__rate_interval]))' % [cl, events('="$service"', extra='event=~"$event"')], '{{event}} ({{level}})')],
          'suffix: events/s',
          g.grid(0, 0, 24, 9),
          overrides=g.levelOverrides(c.levelColors, suffix=true),
        ),
        g.table(
          'Error events per broker',
          'Error events logged in the selected time range, per broker. Click a row for its log lines in Loki.',
          g.target('sum by (namespace, pod, instance, %s, event) (increase(%s[$__range]))' % [c.brokerLabel, events('="$service"', false, 'level="error", event=~"$event"')], instant=true),
          g.grid(0, 9, 12, 9),
          links=[lokiLink('Log lines of ${__data.fields.event} on ${__data.fields.pod}',
                          ['namespace="${__data.fields.namespace}"', 'pod="${__data.fields.pod}"'],
                          '${__data.fields.event}')],
          decimals=0,
        ),
        g.timeseries(
          'Error ratio per broker (as RobustMQHighErrorRate sees it)',
          guardText + ' Click a series for its error log lines.',
          [g.target(guardedRatio('="$service"'), '{{instance}}')],
          'percentunit',
          g.grid(12, 9, 12, 9),
          links=seriesLinks(),
          thresholds=ratioThresholds,
        ),
        g.timeseries(
          'Event history (events per interval)',
          'How many of the selected events were logged in each bar\'s own interval: the window of increase() is the step ($__interval, at least 1m), so bars do not overlap and add up to the total. increase() extrapolates to the bar\'s edges, so a bar may show a fraction.',
          [g.target('sum by (event, level) (increase(%s[$__interval]))' % events('="$service"', extra='event=~"$event"'), '{{event}} ({{level}})')],
          'short',
          g.grid(0, 18, 24, 9),
          overrides=g.levelOverrides(c.levelColors, suffix=true),
          bars=true,
          axisLabel='events per interval',
          interval='1m',
        ),
      ],
    ),
  },
}
