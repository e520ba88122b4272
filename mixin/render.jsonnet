// Every file the mixin renders, by its path in the repository:
//   jsonnet -J mixin -S -m . mixin/render.jsonnet     (scripts/render-mixin.sh)
// tests/live/mixin.rs renders into a temporary directory and fails when a committed
// file differs. Override _config here to render for another setup.
local mixin = import 'mixin.libsonnet';
local c = mixin._config;

local header(what) =
  '# Generated from mixin/ by scripts/render-mixin.sh (%s); do not edit by hand.\n' % what;
local yaml(v) = std.manifestYamlDoc(v, indent_array_in_object=true, quote_keys=false) + '\n';
// jsonnet 0.18 prints an empty array as "[", a blank line, "]": make it "[]".
local json(v) = std.foldl(
  function(text, n) std.strReplace(text, '[\n\n' + std.repeat(' ', n) + ']', '[]'),
  std.range(0, 12),
  std.manifestJsonEx(v, '  ')
) + '\n';

local dashboards = mixin.grafanaDashboards;
local indent(text, n) = std.join('', [
  (if line == '' then '' else std.repeat(' ', n) + line) + '\n'
  for line in std.split(std.rstripChars(text, '\n'), '\n')
]);
// Rendered once and embedded as text: locals are evaluated once.
local groupsYaml(groups) = (import 'yaml.libsonnet').groups(groups);
local rulesYaml = groupsYaml(mixin.prometheusRules.groups);
local alertsYaml = groupsYaml(mixin.prometheusAlerts.groups);
// The PrometheusRule holds both: records first, then the alerts that read them.
local allYaml = rulesYaml + alertsYaml[std.length('groups:\n'):];
local dashboardJson = [[name, json(dashboards[name])] for name in std.objectFields(dashboards)];
local labels = { 'app.kubernetes.io/name': 'robustmq', 'app.kubernetes.io/component': 'log-metrics' };

local files = {
  // The mixin's prometheusRules (records) and prometheusAlerts (alerts): load both.
  'alerts/robustmq-logs.rules.yml':
    header('the recording rules, prometheusRules; the alerts are in robustmq-logs.alerts.yml') + rulesYaml,
  'alerts/robustmq-logs.alerts.yml':
    header('the alerts, prometheusAlerts; they read the records of robustmq-logs.rules.yml') + alertsYaml,

  'deploy/kubernetes/prometheusrule.yaml':
    header('the groups of alerts/robustmq-logs.rules.yml and alerts/robustmq-logs.alerts.yml, for the Prometheus Operator') +
    '# The Operator loads it when its ruleSelector matches metadata.labels (kube-prometheus-stack: release).\n' +
    yaml({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'robustmq-logs', namespace: c.namespace, labels: labels + c.ruleSelectorLabels },
    }) +
    'spec:\n' + indent(allYaml, 2),

  'deploy/kubernetes/grafana-dashboards.yaml':
    header('dashboards/*.json, for the Grafana sidecar of kube-prometheus-stack') +
    '# The sidecar loads ConfigMaps labelled grafana_dashboard: "1", into the folder named by\n' +
    '# the grafana_folder annotation when started with folderAnnotation: grafana_folder.\n' +
    std.join('---\n', [
      // The JSON is appended as a literal block by hand: manifestYamlDoc takes
      // seconds per dashboard-sized string in jsonnet 0.18.
      yaml({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'grafana-dashboard-' + std.strReplace(d[0], '.json', ''),
          namespace: c.namespace,
          labels: { grafana_dashboard: '1', 'app.kubernetes.io/name': 'robustmq' },
          annotations: { grafana_folder: 'RobustMQ' },
        },
      }) +
      'data:\n  %s: |\n' % d[0] + indent(d[1], 4)
      for d in dashboardJson
    ]),
} + {
  ['dashboards/' + d[0]]: d[1]
  for d in dashboardJson
};

// `jsonnet -S -m` ends every file with a newline of its own.
// Each file ends in one newline (go-jsonnet's -m writes a string as it is).
{ [path]: std.rstripChars(files[path], '\n') + '\n' for path in std.objectFields(files) }
