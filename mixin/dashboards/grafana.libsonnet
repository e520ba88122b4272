// Plain-jsonnet builders for the few Grafana objects the dashboards use
// (grafonnet and jsonnet-bundler are not reachable from this project's machines,
// so plain jsonnet). Shapes follow Grafana's dashboard
// schema, which tests/live/dashboards.rs validates against.
local ds = { type: 'prometheus', uid: '${datasource}' };

{
  datasource:: ds,

  dashboard(config, uid, title, description, variables, panels):: {
    uid: uid,
    title: title,
    description: description,
    tags: config.dashboardTags + ['logs'],
    editable: true,
    graphTooltip: 1,
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    time: { from: config.dashboardTimeFrom, to: 'now' },
    refresh: config.dashboardRefresh,
    timepicker: { refresh_intervals: ['10s', '30s', '1m', '5m', '15m'] },
    fiscalYearStartMonth: 0,
    liveNow: false,
    links: [{
      type: 'dashboards',
      tags: config.dashboardTags,
      asDropdown: false,
      includeVars: true,
      keepTime: true,
      title: 'RobustMQ log dashboards',
      icon: 'external link',
      targetBlank: false,
      tooltip: '',
    }],
    annotations: { list: [{
      builtIn: 1,
      datasource: { type: 'grafana', uid: '-- Grafana --' },
      enable: true,
      hide: true,
      iconColor: 'rgba(0, 211, 255, 1)',
      name: 'Annotations & Alerts',
      type: 'dashboard',
    }] },
    templating: { list: variables },
    // Ids in order, so a panel's id is its position.
    panels: [panels[i] { id: i + 1 } for i in std.range(0, std.length(panels) - 1)],
  },

  datasourceVariable(name, label, pluginId):: {
    name: name,
    label: label,
    type: 'datasource',
    query: pluginId,
    hide: 0,
    includeAll: false,
    multi: false,
    refresh: 1,
    regex: '',
    options: [],
  },

  queryVariable(name, label, query, all=true, hide=false):: {
    name: name,
    label: label,
    type: 'query',
    datasource: ds,
    query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 },
    // 2 hides the variable (a single-cluster setup has nothing to choose).
    hide: if hide then 2 else 0,
    multi: all,
    includeAll: all,
    refresh: 2,
    regex: '',
    sort: 1,
    options: [],
  } + (if all then { allValue: '.*' } else {}),

  target(expr, legend='', instant=false):: {
    datasource: ds,
    refId: 'A',
    expr: expr,
    legendFormat: legend,
    range: !instant,
    instant: instant,
  } + (if instant then { format: 'table' } else {}),

  // Fixed colours per level: by the series name when the legend is the level,
  // or by its "(level)" suffix.
  levelOverrides(colors, suffix=false):: [
    {
      matcher: if suffix then { id: 'byRegexp', options: '/\\(%s\\)$/' % level } else { id: 'byName', options: level },
      properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: colors[level] } }],
    }
    for level in std.objectFields(colors)
  ],

  timeseries(title, description, targets, unit, gridPos, links=[], overrides=[], bars=false, axisLabel='', thresholds=null, interval=null):: {
    type: 'timeseries',
    title: title,
    description: description,
    datasource: ds,
    gridPos: gridPos,
    targets: targets,
    fieldConfig: {
      defaults: {
                  unit: unit,
                  custom: {
                    drawStyle: if bars then 'bars' else 'line',
                    lineWidth: 1,
                    fillOpacity: if bars then 80 else 10,
                    showPoints: 'never',
                    axisLabel: axisLabel,
                    axisSoftMin: 0,
                  } + (if thresholds != null then { thresholdsStyle: { mode: 'dashed' } } else {}),
                  color: { mode: 'palette-classic' },
                  min: 0,
                } + (if links != [] then { links: links } else {})
                + (if thresholds != null then {
                     thresholds: {
                       mode: 'absolute',
                       steps: [{ color: 'green', value: null }] + [{ color: t.color, value: t.value } for t in thresholds],
                     },
                   } else {}),
      overrides: overrides,
    },
    options: {
      legend: { displayMode: 'table', placement: 'right', showLegend: true, calcs: ['lastNotNull', 'max'] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  } + (if interval != null then { interval: interval } else {}),

  table(title, description, target, gridPos, unit='short', links=[], decimals=null):: {
    type: 'table',
    title: title,
    description: description,
    datasource: ds,
    gridPos: gridPos,
    targets: [target],
    fieldConfig: {
      defaults: { unit: unit } + (if links != [] then { links: links } else {}) + (if decimals != null then { decimals: decimals } else {}),
      overrides: [],
    },
    options: { showHeader: true, sortBy: [{ displayName: 'Value', desc: true }] },
    transformations: [{ id: 'organize', options: { excludeByName: { Time: true } } }],
  },

  grid(x, y, w, h):: { x: x, y: y, w: w, h: h },
}
