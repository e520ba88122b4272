// Everything a user may want to change, in one place. Override with `+::`:
//   (import 'robustmq-log-metrics/mixin.libsonnet') + { _config+:: { selector: 'job="mq"' } }
{
  _config+:: {
    // One selector for every rule, alert and dashboard query. The Operator names the
    // job after the ServiceMonitor's `jobLabel` (deploy/kubernetes/servicemonitor.yaml
    // sets it to the Service's `app` label, so job="robustmq").
    selector: 'job="robustmq"',

    // The label that tells clusters apart in a central store (an agent's external label).
    // Rules and alerts keep it; without it every result is the same as for one cluster.
    clusterLabel: 'cluster',
    // The labels every fleet rule and alert keeps besides `service`: the cluster and
    // the Kubernetes namespace of the scrape. A namespace-scoped route (the Prometheus
    // Operator's AlertmanagerConfig, whose default OnNamespace matcher is
    // namespace="<its namespace>") receives only alerts that carry it. One RobustMQ
    // custom resource lives in one namespace, so this splits no fleet; without a
    // namespace label the aggregation simply has none.
    fleetLabels: [self.clusterLabel, 'namespace'],

    // The label that names a broker across restarts and rollouts (RobustMQ's broker id,
    // added as a global label by the operator config). A pod IP, and so `instance`,
    // changes on every rollout; this does not.
    brokerLabel: 'node_id',

    // %s is the alert name in lower case, the anchor of its section in docs/runbooks.md.
    runbookURLPattern: 'https://github.com/robustmq/robustmq-log-metrics/blob/main/docs/runbooks.md#%s',

    // The error ratio's denominator: the operational levels, so that turning on
    // debug or trace logging does not dilute it.
    operationalLevels: ['error', 'warn', 'info'],

    // Error budget: the share of operational events a service may log at error
    // level (an objective of 99%). Burn rate = error ratio / errorBudget.
    errorBudget: 0.01,
    // Multi-window, multi-burn-rate alerts (the SRE workbook, chapter 5; the
    // windows of kubernetes-mixin's SLOs): a pair fires when both its long and
    // its short window burn faster than `factor`. Critical pages, warning tickets.
    burnRateWindows: [
      { severity: 'critical', long: '1h', short: '5m', factor: 14.4 },
      { severity: 'critical', long: '6h', short: '30m', factor: 6 },
      { severity: 'warning', long: '1d', short: '2h', factor: 3 },
      { severity: 'warning', long: '3d', short: '6h', factor: 1 },
    ],
    // The period of the budget panel ("Error budget left"). It reads this much history,
    // so it must fit the retention of the Prometheus that serves the dashboards: 14d
    // fits Prometheus' default --storage.tsdb.retention.time of 15d (and the 3d
    // window of the slowest pair); raise it with the retention, e.g. '30d' on a
    // Mimir or Thanos store that keeps 30 days or more.
    errorBudgetPeriod: '14d',
    // The burn-rate guard: a pair alerts only when the service logged at least this
    // many errors per short window of the pair, in the short window itself and on
    // average over the long window (min x long/short errors there: 60 with the 12x
    // pairs below). One error in a quiet service that logs ten events is 10% and
    // means nothing; a burst of a handful of errors fills one short window but is a
    // fraction of what the long window asks for, so it neither pages nor flaps,
    // while a service that keeps failing reaches both.
    errorRatioMinErrors: 5,
    // The window of the base rates every longer window is averaged from.
    rateWindow: '5m',
    // The evaluation interval of the rule groups (Prometheus' global
    // evaluation_interval): the long windows average this many samples.
    evaluationInterval: '1m',

    // A broker whose error ratio is above brokerErrorRatio and brokerOutlierFactor
    // times the ratio of the rest of its service's fleet (the other brokers, itself
    // left out): a ticket for one bad broker, also with 2 or 3 brokers. A whole
    // fleet at a high ratio is the fleet alert's, not 50 of these.
    brokerErrorRatio: 0.05,
    brokerOutlierFactor: 3,

    // Storage errors put acknowledged messages at risk: they page on their rate,
    // whatever share of all events they are. The errors of the services that store
    // the messages (`preset = "robustmq"` names the storage_engine and
    // storage_adapter crates so), whatever their event names: those crates carry no
    // event field yet, so their errors count as event="unstructured".
    storageServices: ['storage-engine', 'storage-adapter'],
    storageErrorRate: 0.1,  // per second, per cluster and service (30 in 5 minutes)

    // Reserved event values (never a real event name) and the call-site fallback
    // (`module::path:line`). The new-error-event alert and the top-events panel
    // ignore the overflow and the call sites, and take `unstructured` as one event
    // of its service: every crate but mqtt-broker logs nothing else yet, so a
    // service's first unstructured errors in a day are its new errors.
    unstructuredEvent: 'unstructured',
    overflowEvent: 'overflow',
    reservedEvents: [self.unstructuredEvent, self.overflowEvent],
    callSiteEventRegex: '.*:[0-9]+',
    overflowService: 'overflow',

    // The new-error-event alert compares against this much history, recorded by a slow
    // group at historyInterval, and stays silent until a full history exists.
    newEventHistory: '1d',
    historyInterval: '10m',
    // How long an event stays "new": the alert compares against the history recorded
    // between 2x and 1x this long ago, so it keeps firing this long while the event
    // goes on, then resolves by itself.
    newEventWindow: '1h',

    // Distinct event names of a service on a broker, as a share of the broker's
    // exported cap (robustmq_log_label_limit{kind="events_per_service"}).
    eventsNearCapRatio: 0.8,

    // The labels that tell scrape targets apart, besides clusterLabel.
    targetLabels: ['job', 'instance'],

    // `for` of every alert, by name and severity.
    alertFor: {
      highErrorRateCritical: '2m',
      highErrorRateWarning: '15m',
      brokerHighErrorRate: '30m',
      newErrorEvent: '1m',
      storageErrors: '5m',
      labelOverflow: '5m',
      eventsNearCap: '15m',
      targetDown: '5m',
      logMetricsAbsent: '10m',
      targetsAbsent: '10m',
      appenderDroppingLines: '5m',
      // Longer than a burst: the line limit suppresses a burst for a few minutes, and
      // the 5m rate stays above 0 for 5 minutes after it; a flood or a chatty call
      // site keeps it there.
      appenderSuppressingLines: '30m',
    },

    // Grafana. The cluster variable is shown and offers "All" (a central store or
    // Mimir holds several clusters, deploy/prometheus/central.yml), and every legend
    // names the cluster, as kubernetes-mixin's showMultiCluster does. Set it false
    // for a Prometheus that only ever holds one cluster: the variable is hidden
    // (still matching every value, or none) and legends leave the cluster out.
    showMultiCluster: true,
    dashboardTags: ['robustmq'],
    dashboardRefresh: '30s',
    dashboardTimeFrom: 'now-1h',
    // The Loki stream labels Fluent Bit sets (deploy/fluent-bit/fluent-bit.yaml):
    // job, cluster, namespace, pod, node_id, level (lower case).
    lokiSelector: 'job="robustmq"',
    levelColors: { 'error': 'red', warn: 'orange', info: 'blue', debug: '#8e8e8e', trace: 'purple' },

    // deploy/kubernetes objects that embed the rendered rules and dashboards.
    namespace: 'robustmq-system',
    ruleSelectorLabels: { release: 'prometheus' },
  },
}
