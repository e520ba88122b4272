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

    // The label that names a broker across restarts and rollouts (RobustMQ's broker id,
    // added as a global label by the operator config). A pod IP, and so `instance`,
    // changes on every rollout; this does not.
    brokerLabel: 'node_id',

    // %s is the alert name in lower case, the anchor of its section in docs/runbooks.md.
    runbookURLPattern: 'https://github.com/robustmq/robustmq-log-metrics/blob/main/docs/runbooks.md#%s',

    // Error ratio per broker and service, over errorRatioWindow.
    errorRatioWindow: '5m',
    errorRatioWarning: 0.01,
    errorRatioCritical: 0.10,
    // A ratio needs this many errors in the window before it alerts: one error in a
    // quiet service that logs ten events in five minutes is 10%, and means nothing.
    errorRatioMinErrors: 5,

    // Storage errors put acknowledged messages at risk, so they alert at a lower share
    // than the general error ratio, but a healthy broker (0.2% errors) stays far below.
    storageErrorEvents: ['storage_error'],
    storageErrorRatio: 0.005,
    storageErrorMinErrors: 10,
    storageErrorWindow: '10m',

    // Reserved event values (never a real event name) and the call-site fallback
    // (`module::path:line`): the new-error-event alert ignores them all.
    reservedEvents: ['unstructured', 'overflow'],
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

    // The crate's per-service cap on event names (max_events_per_service); no metric
    // exports it, so keep this equal to the broker's setting.
    maxEventsPerService: 256,
    eventsNearCapRatio: 0.8,

    // A broker whose log metrics were present within this window and are gone now.
    absentWindow: '1h',

    // `for` of every alert, by name and severity.
    alertFor: {
      highErrorRateWarning: '5m',
      highErrorRateCritical: '5m',
      newErrorEvent: '1m',
      storageErrors: '10m',
      labelOverflow: '5m',
      logMetricsAbsent: '5m',
      eventsNearCap: '15m',
    },

    // Grafana.
    dashboardTags: ['robustmq'],
    dashboardRefresh: '30s',
    dashboardTimeFrom: 'now-1h',
    // The Loki stream labels Fluent Bit sets (deploy/fluent-bit/fluent-bit.yaml):
    // job, namespace, pod, node_id, level (lower case).
    lokiSelector: 'job="robustmq"',
    levelColors: { 'error': 'red', warn: 'orange', info: 'blue', debug: '#8e8e8e', trace: 'purple' },

    // deploy/kubernetes objects that embed the rendered rules and dashboards.
    namespace: 'robustmq-system',
    ruleSelectorLabels: { release: 'prometheus' },
  },
}
