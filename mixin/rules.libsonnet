// Recording rules: the mixin's prometheusRules. Each raw counter is read once per
// evaluation, by one of two rules over disjoint selectors (errors; the other
// levels); every other rule, alert and panel reads recorded series. Per-broker
// rules aggregate with `without`, so every topology label of the scrape
// (cluster, namespace, pod, node_id, job, instance) survives; fleet rules
// aggregate `by (cluster, service)`, the unit that pages.
//
// The alerts (alerts.libsonnet) are the mixin's prometheusAlerts, in a group of
// their own: Prometheus evaluates groups independently, so an alert may read a
// record one evaluation old (1m), a small lag beside every alert's `for`.
local lib = import 'lib.libsonnet';

{
  local c = $._config,
  local cl = c.clusterLabel,
  local fleet = lib.fleet(c),
  local w = c.rateWindow,
  local events(extra) = lib.series(c, 'robustmq_log_events_total', extra),
  // Not an error event of its own: the overflow and the call-site fallbacks.
  local notEvents = lib.alternatives([c.overflowEvent, c.callSiteEventRegex]),
  // The alert that reads each appender record, if any.
  local alertOf = { dropped_lines: 'RobustMQLogAppenderDroppingLines', suppressed_lines: 'RobustMQLogAppenderSuppressingLines' },

  // Every window an alert or panel reads a ratio over: the base window and each
  // burn-rate pair's long and short window.
  ratioWindows:: std.set([w] + std.flattenArrays([[p.short, p.long] for p in c.burnRateWindows]), lib.seconds),

  // The error ratio of every (cluster, service) over `window`: the base rates
  // averaged over the window (sum over sum: the average ratio weighted by volume).
  local ratioRule(window) = {
    comment:: if window == w
    then 'Error ratio per cluster and service over the operational levels (%s): the burn-rate alerts and panels.' % std.join('|', c.operationalLevels)
    else 'The same ratio over %s, from the %s rates recorded above (%d samples per series), never from raw counters.' % [window, w, lib.seconds(window) / lib.seconds(c.evaluationInterval)],
    record: 'cluster_service:robustmq_log_errors:ratio_rate%s' % window,
    expr: if window == w then |||
      cluster_service:robustmq_log_errors:rate%(w)s
      /
      cluster_service:robustmq_log_operational:rate%(w)s
    ||| % { w: w } else |||
      sum_over_time(cluster_service:robustmq_log_errors:rate%(w)s[%(window)s])
      /
      sum_over_time(cluster_service:robustmq_log_operational:rate%(w)s[%(window)s])
    ||| % { w: w, window: window },
  },

  // The recording rules of the main group, in evaluation order.
  recordingRules:: [
    {
      comment:: 'Raw read 1 of 2: every error series, per broker, service and event name. The base of the error views, the new-event and storage alerts.',
      record: 'service_instance_event:robustmq_log_errors:rate%s' % w,
      expr: 'sum without (level) (rate(%s[%s]))' % [events('level="error"'), w],
    },
    {
      comment:: "Raw read 2 of 2: the other levels' events, per broker, service, level and event name (every label of the raw series). The base of the level views and of the per-event panels, which read the fleet sum below rather than the raw counters.",
      record: 'service_instance_level_event:robustmq_log_non_errors:rate%s' % w,
      expr: 'rate(%s[%s])' % [events('level!="error"'), w],
    },
    {
      comment:: 'Error events per broker and service.',
      record: 'service_instance:robustmq_log_errors:rate%s' % w,
      expr: 'sum without (event) (service_instance_event:robustmq_log_errors:rate%s)' % w,
    },
    {
      comment:: 'All events per broker, service and level, from the two reads above: the base of the panels.',
      record: 'service_instance_level:robustmq_log_events:rate%s' % w,
      expr: |||
        sum without (event) (service_instance_level_event:robustmq_log_non_errors:rate%(w)s)
        or label_replace(service_instance:robustmq_log_errors:rate%(w)s, "level", "error", "", "")
      ||| % { w: w },
    },
    {
      comment:: "The ratio's denominator per broker and service: the operational levels only, so debug or trace logging does not dilute it.",
      record: 'service_instance:robustmq_log_operational:rate%s' % w,
      expr: 'sum without (level) (service_instance_level:robustmq_log_events:rate%s{level=~"%s"})' % [w, lib.alternatives(c.operationalLevels)],
    },
    {
      comment:: 'Error ratio per broker and service: RobustMQBrokerHighErrorRate and the per-broker panels.',
      record: 'service_instance:robustmq_log_errors:ratio_rate%s' % w,
      expr: |||
        service_instance:robustmq_log_errors:rate%(w)s
        /
        service_instance:robustmq_log_operational:rate%(w)s
      ||| % { w: w },
    },
    {
      comment:: 'Fleet view per cluster, service and level: the fleet panels, federation and long retention.',
      record: 'cluster_service_level:robustmq_log_events:rate%s' % w,
      expr: 'sum by (%s, level) (service_instance_level:robustmq_log_events:rate%s)' % [fleet, w],
    },
    {
      comment:: "Events per cluster, service, level and event name, over all brokers: the events dashboard's per-event panels (rate and history) read this instead of the raw counters. Its series do not grow with the number of brokers.",
      record: 'cluster_service_level_event:robustmq_log_events:rate%s' % w,
      expr: |||
        sum by (%(fleet)s, level, event) (
          service_instance_level_event:robustmq_log_non_errors:rate%(w)s
          or label_replace(service_instance_event:robustmq_log_errors:rate%(w)s, "level", "error", "", "")
        )
      ||| % { fleet: fleet, w: w },
    },
    {
      comment:: 'Errors per cluster and service: the burn-rate numerator, its guard (errors in both windows of a pair), and the rest-of-the-fleet side of RobustMQBrokerHighErrorRate.',
      record: 'cluster_service:robustmq_log_errors:rate%s' % w,
      expr: 'sum by (%s) (service_instance:robustmq_log_errors:rate%s)' % [fleet, w],
    },
    {
      comment:: 'Operational events per cluster and service: the burn-rate denominator, and the rest-of-the-fleet side of RobustMQBrokerHighErrorRate.',
      record: 'cluster_service:robustmq_log_operational:rate%s' % w,
      expr: 'sum by (%s) (service_instance:robustmq_log_operational:rate%s)' % [fleet, w],
    },
  ] + [ratioRule(window) for window in self.ratioWindows] + [
    {
      comment:: "Share of structured events per cluster and service: the log standard's migration progress (docs/log-format.md). 0, not nothing, for a service with no structured event.",
      record: 'cluster_service:robustmq_log_structured:ratio_rate%s' % w,
      expr: |||
        (
          sum by (%(fleet)s) (
            service_instance_level_event:robustmq_log_non_errors:rate%(w)s{event!="unstructured"}
            or service_instance_event:robustmq_log_errors:rate%(w)s{event!="unstructured"}
          )
          or 0 * sum by (%(fleet)s) (service_instance_level:robustmq_log_events:rate%(w)s)
        )
        /
        sum by (%(fleet)s) (service_instance_level:robustmq_log_events:rate%(w)s)
      ||| % { fleet: fleet, w: w },
    },
    {
      comment:: 'Errors per cluster, service and event name, over all brokers: what RobustMQNewErrorEvent alerts on (one alert per event, however many brokers log it), what the history group remembers, and the top-events panel. "%s" stays, as one event of its service (the errors of the calls without an event field: every crate not yet migrated); the overflow and call-site fallbacks are not event names and are left out.' % c.unstructuredEvent,
      record: 'cluster_service_event:robustmq_log_errors:rate%s' % w,
      expr: 'sum by (%s, event) (service_instance_event:robustmq_log_errors:rate%s{service!="%s", event!~"%s"})' % [fleet, w, c.overflowService, notEvents],
    },
    {
      comment:: 'Errors of the storage services (%s) per cluster and service, whatever their event names: RobustMQStorageErrors.' % std.join(', ', c.storageServices),
      record: 'cluster_service:robustmq_log_storage_errors:rate%s' % w,
      expr: 'sum by (%s) (service_instance:robustmq_log_errors:rate%s{service=~"%s"})' % [fleet, w, lib.alternatives(c.storageServices)],
    },
    {
      comment:: 'Events whose name was folded into "overflow", per broker and service. The counter exists for every service the layer knows, from its start: present while the layer is installed (RobustMQLogMetricsAbsent).',
      record: 'service_instance:robustmq_log_label_overflow:rate%s' % w,
      expr: 'rate(%s[%s])' % [lib.series(c, 'robustmq_log_label_overflow_total'), w],
    },
    {
      comment:: 'Distinct event names per broker and service, reserved values left out as the cap leaves them out. An instant read: one sample per raw series.',
      record: 'service_instance:robustmq_log_event_names:count',
      expr: 'count without (event) (count without (level) (%s))' % events('service!="%s", event!~"%s"' % [c.overflowService, lib.alternatives(c.reservedEvents)]),
    },
    {
      comment:: "The names above as a share of the broker's own cap, exported by the crate: RobustMQLogEventNamesNearLimit and its panel.",
      record: 'service_instance:robustmq_log_event_names:ratio_limit',
      expr: |||
        service_instance:robustmq_log_event_names:count
        / on (%(target)s) group_left ()
        max by (%(target)s) (%(limit)s)
      ||| % { target: lib.labelList([cl] + c.targetLabels), limit: lib.series(c, 'robustmq_log_label_limit', 'kind="events_per_service"') },
    },
  ] + std.flattenArrays([
    [{
      comment:: 'Appender %s per broker and appender: the log pipeline row%s.' % [f[1], if std.objectHas(alertOf, f[0]) then ' and ' + alertOf[f[0]] else ''],
      record: 'instance_appender:robustmq_log_appender_%s:rate%s' % [f[0], w],
      expr: 'rate(%s[%s])' % [lib.series(c, 'robustmq_log_appender_%s_total' % f[0]), w],
    }]
    for f in [['lines', 'lines written'], ['bytes', 'bytes written'], ['dropped_lines', 'dropped lines'], ['suppressed_lines', 'lines suppressed by the line limit']]
  ]),

  prometheusRules+:: {
    groups+: [
      {
        name: 'robustmq-logs.rules',
        comment:: 'The recording rules, in evaluation order: each reads the records above it, recorded a moment before in the same evaluation.',
        rules: $.recordingRules,
      },
      {
        // A slow group: the day-long reads run once per historyInterval over the
        // few per-cluster series, not once a minute over every broker's raw counters.
        name: 'robustmq-logs.history',
        comment:: "A slow group: the day-long reads run once per historyInterval over the few per-cluster series of cluster_service_event:robustmq_log_errors:rate%s, not once a minute over every broker's raw counters." % w,
        interval: c.historyInterval,
        rules: [
          {
            comment:: 'Error event names logged (a rate above 0, not merely a series that exists) in the last %s, per cluster and service.' % c.newEventHistory,
            record: 'cluster_service_event:robustmq_log_errors:max_rate%s_%s' % [w, c.newEventHistory],
            expr: 'max_over_time(cluster_service_event:robustmq_log_errors:rate%s[%s]) > 0' % [w, c.newEventHistory],
          },
          {
            comment:: 'Present when the service had log metrics a full history ago: until then the history above is incomplete, and every old event would look new (a first deploy, or a Prometheus that lost its data).',
            record: 'cluster_service:robustmq_log_events:present_history_ago',
            expr: 'count by (%s) (max_over_time(cluster_service_level:robustmq_log_events:rate%s[%s] offset %s))' % [
              fleet,
              w,
              c.historyInterval,
              c.newEventHistory,
            ],
          },
        ],
      },
    ],
  },
}
