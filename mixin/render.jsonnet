// Every file the mixin renders, by its path in the repository:
//   jsonnet -J mixin -S -m . mixin/render.jsonnet     (scripts/render-mixin.sh)
// tests/mixin.rs renders into a temporary directory and fails when a committed
// file differs. Override _config here to render for another setup.
local mixin = import 'mixin.libsonnet';
local c = mixin._config;

local header(what) =
  '# Generated from mixin/ by scripts/render-mixin.sh (%s); do not edit by hand.\n' % what;
local yaml(v) = std.manifestYamlDoc(v, indent_array_in_object=true, quote_keys=false) + '\n';
local json(v) = std.manifestJsonEx(v, '  ') + '\n';

local groups = mixin.prometheusRules.groups + mixin.prometheusAlerts.groups;
local dashboards = mixin.grafanaDashboards;
local labels = { 'app.kubernetes.io/name': 'robustmq', 'app.kubernetes.io/component': 'log-metrics' };

{
  'alerts/robustmq-logs.rules.yml':
    header('the recording rules and alerts, for Prometheus rule_files') + yaml({ groups: groups }),

  'deploy/kubernetes/prometheusrule.yaml':
    header('the same groups as alerts/robustmq-logs.rules.yml, for the Prometheus Operator') +
    '# The Operator loads it when its ruleSelector matches metadata.labels (kube-prometheus-stack: release).\n' +
    yaml({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'robustmq-logs', namespace: c.namespace, labels: labels + c.ruleSelectorLabels },
      spec: { groups: groups },
    }),

  'deploy/kubernetes/grafana-dashboards.yaml':
    header('dashboards/*.json, for the Grafana sidecar of kube-prometheus-stack') +
    '# The sidecar loads ConfigMaps labelled grafana_dashboard: "1", into the folder named by\n' +
    '# the grafana_folder annotation when started with folderAnnotation: grafana_folder.\n' +
    std.join('---\n', [
      yaml({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'grafana-dashboard-' + std.strReplace(name, '.json', ''),
          namespace: c.namespace,
          labels: { grafana_dashboard: '1', 'app.kubernetes.io/name': 'robustmq' },
          annotations: { grafana_folder: 'RobustMQ' },
        },
        data: { [name]: json(dashboards[name]) },
      })
      for name in std.objectFields(dashboards)
    ]),
} + {
  ['dashboards/' + name]: json(dashboards[name])
  for name in std.objectFields(dashboards)
}
