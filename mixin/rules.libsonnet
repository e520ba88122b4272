// Recording rules. Aggregations use `without`, so every topology label of the
// scrape (cluster, namespace, pod, node_id, job, instance) survives; only the
// fleet and history rules aggregate `by`, on purpose.
local lib = import 'lib.libsonnet';

{
  prometheusRules+:: {
    local c = $._config,
    local events(extra='') = lib.series(c, 'robustmq_log_events_total', extra),
    local reserved = lib.alternatives(c.reservedEvents + [c.callSiteEventRegex]),
    groups+: [
      {
        name: 'robustmq-logs.rules',
        rules: [
          {
            comment:: 'Event rate per broker, service and level: the base of the panels, so the raw counters (one series per event name) are read once per evaluation instead of once per panel.',
            record: 'service_instance_level:robustmq_log_events:rate5m',
            expr: 'sum without (event) (rate(%s[5m]))' % events(),
          },
          {
            comment:: 'All events per broker and service: the ratio\'s denominator.',
            record: 'service_instance:robustmq_log_events:rate5m',
            expr: 'sum without (level) (service_instance_level:robustmq_log_events:rate5m)',
          },
          {
            comment:: 'Error share per broker and service, summed over event names on both sides before dividing (series-by-series division gives 1 for every error series). The same expression as RobustMQHighErrorRate, without the threshold and guard.',
            record: 'service_instance:robustmq_log_errors:ratio_rate5m',
            expr: |||
              sum without (level) (service_instance_level:robustmq_log_events:rate5m{level="error"})
              /
              service_instance:robustmq_log_events:rate5m
            |||,
          },
          {
            comment:: 'Error rate per event name: the "top error events" views.',
            record: 'service_instance_event:robustmq_log_errors:rate5m',
            expr: 'sum without (level) (rate(%s[5m]))' % events('level="error"'),
          },
          {
            comment:: 'Events per broker over all services: present while a broker exports log metrics, the input of RobustMQLogMetricsAbsent.',
            record: 'instance:robustmq_log_events:rate5m',
            expr: 'sum without (service, level) (service_instance_level:robustmq_log_events:rate5m)',
          },
          {
            comment:: 'Fleet view per cluster, service and level, for federation and long retention: a handful of series for the whole fleet.',
            record: 'service_level:robustmq_log_events:rate5m',
            expr: 'sum by (%s, service, level) (service_instance_level:robustmq_log_events:rate5m)' % c.clusterLabel,
          },
          {
            comment:: 'Share of structured events per service: the log standard\'s migration progress (docs/log-format.md).',
            record: 'service:robustmq_log_structured:ratio_rate5m',
            expr: |||
              sum by (%(cluster)s, service) (rate(%(structured)s[5m]))
              /
              sum by (%(cluster)s, service) (rate(%(all)s[5m]))
            ||| % { cluster: c.clusterLabel, structured: events('event!="unstructured"'), all: events() },
          },
          {
            comment:: 'Errors per cluster, service and real event name, over all brokers: what RobustMQNewErrorEvent alerts on (one alert per event, however many brokers log it) and what the history group remembers. Reserved values and call-site fallbacks are not event names and are left out here.',
            record: 'cluster_service_event:robustmq_log_errors:increase5m',
            expr: 'sum by (%s, service, event) (increase(%s[5m]))' % [
              c.clusterLabel,
              events('level="error", service!="%s", event!~"%s"' % [c.overflowService, reserved]),
            ],
          },
        ],
      },
      {
        // A slow group: the day-long reads run once per historyInterval over the
        // few per-cluster series above, not once a minute over every broker's raw
        // counters (at 100 brokers a 1-day range over the raw series is ~11.5M
        // samples per evaluation).
        name: 'robustmq-logs.history',
        comment:: 'A slow group: the day-long reads run once per historyInterval over the few per-cluster series of cluster_service_event:robustmq_log_errors:increase5m, not once a minute over every broker\'s raw counters.',
        interval: c.historyInterval,
        rules: [
          {
            comment:: 'Error event names seen in the last day, per cluster and service.',
            record: 'cluster_service_event:robustmq_log_errors:max_increase5m_1d',
            expr: 'max_over_time(cluster_service_event:robustmq_log_errors:increase5m[%s])' % c.newEventHistory,
          },
          {
            comment:: 'Present when the service had log metrics a full history ago: until then the history above is incomplete, and every old event would look new (a first deploy, or a Prometheus that lost its data).',
            record: 'service:robustmq_log_events:present_history_ago',
            expr: 'count by (%s, service) (max_over_time(service_level:robustmq_log_events:rate5m[%s] offset %s))' % [
              c.clusterLabel,
              c.historyInterval,
              c.newEventHistory,
            ],
          },
        ],
      },
    ],
  },
}
