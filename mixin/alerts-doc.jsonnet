// docs/alerts.md: the alerts and recording rules as operators read them, made
// from the same objects as the rule file, so the page cannot drift from it:
//   jsonnet -J mixin -S mixin/alerts-doc.jsonnet > docs/alerts.md
// (scripts/render-alert-docs.sh; `--check` in CI's doc step).
local mixin = import 'mixin.libsonnet';
local groups = mixin.prometheusRules.groups + mixin.prometheusAlerts.groups;

// A table cell: one line, `|` escaped.
local cell(s) = std.strReplace(std.strReplace(std.rstripChars(s, '\n'), '\n', ' '), '|', '\\|');
local why(r) = if std.objectHasAll(r, 'comment') then cell(r.comment) else '';
local anchor(name) = std.asciiLower(name);

local alerts = std.flattenArrays([[r for r in g.rules if std.objectHas(r, 'alert')] for g in groups]);

local alertTable =
  '| alert | severity | `for` | summary |\n|---|---|---|---|\n' +
  std.join('', [
    '| [%s](runbooks.md#%s) | %s | %s | %s |\n' % [
      a.alert,
      anchor(a.alert),
      a.labels.severity,
      a['for'],
      cell(a.annotations.summary),
    ]
    for a in alerts
  ]);

local alertSections = std.join('\n', [
  '### %s (%s)\n\n%s\n\n```promql\n%s\n```\n' % [a.alert, a.labels.severity, why(a), std.rstripChars(a.expr, '\n')]
  for a in alerts
]);

local recordTables = std.join('\n', [
  'Group `%s`%s:\n\n| recording rule | why |\n|---|---|\n' % [
    g.name,
    if std.objectHas(g, 'interval') then ' (every %s)' % g.interval else '',
  ] +
  std.join('', ['| `%s` | %s |\n' % [r.record, why(r)] for r in g.rules if std.objectHas(r, 'record')])
  for g in groups
  if std.length([r for r in g.rules if std.objectHas(r, 'record')]) > 0
]);

|||
  # Alerts and recording rules

  Generated from `mixin/` by `scripts/render-alert-docs.sh`; do not edit by hand. The rules
  themselves are `alerts/robustmq-logs.rules.yml` (records) and `alerts/robustmq-logs.alerts.yml`
  (alerts), both in `deploy/kubernetes/prometheusrule.yaml`; what to do when an alert fires is in
  [runbooks.md](runbooks.md), how the mixin is built and configured in [monitoring.md](monitoring.md).

  ## Alerts

||| + alertTable + '\n' + alertSections + '\n## Recording rules\n\n' + recordTables
