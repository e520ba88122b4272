// A YAML writer for rule groups: keys in the order people read them (record or
// alert, expr, for, labels, annotations), each rule's hidden `comment::` as
// `#` lines above it, multi-line expressions as literal blocks. jsonnet's
// manifestYamlDoc sorts keys, drops comments and is slow on long strings.
local quote(s) = std.escapeStringJson(s);

local wrap(text, width) =
  local words = std.split(text, ' ');
  std.foldl(
    function(lines, w)
      local last = lines[std.length(lines) - 1];
      if last == '' then lines[:std.length(lines) - 1] + [w]
      else if std.length(last) + 1 + std.length(w) > width then lines + [w]
      else lines[:std.length(lines) - 1] + [last + ' ' + w],
    words,
    [''],
  );

local comment(obj, indent) =
  if std.objectHasAll(obj, 'comment') then
    std.join('', [indent + '# ' + line + '\n' for line in wrap(obj.comment, 96 - std.length(indent))])
  else '';

// Expressions are always literal blocks: PromQL's quotes need no escaping there.
local scalar(v, indent, block=false) =
  if std.type(v) == 'string' && (block || std.length(std.findSubstr('\n', v)) > 0) then
    '|\n' + std.join('', [indent + line + '\n' for line in std.split(std.rstripChars(v, '\n'), '\n')])
  else if std.type(v) == 'string' then quote(v) + '\n'
  else std.toString(v) + '\n';

// summary, description, runbook_url first (in that order), then the rest sorted.
local first = ['summary', 'description', 'runbook_url'];
local map(obj, indent) =
  local keys = [k for k in first if std.objectHas(obj, k)]
               + [k for k in std.objectFields(obj) if !std.member(first, k)];
  std.join('', [indent + k + ': ' + quote(obj[k]) + '\n' for k in keys]);

local ruleKeys = ['record', 'alert', 'expr', 'for'];

local rule(r) =
  local i = '        ';
  comment(r, '      ') +
  std.join('', [
    (if k == ruleKeys[0] || k == ruleKeys[1] then '      - ' else i) + k + ': ' + scalar(r[k], i + '  ', k == 'expr')
    for k in ruleKeys
    if std.objectHas(r, k)
  ]) +
  std.join('', [
    i + k + ':\n' + map(r[k], i + '  ')
    for k in ['labels', 'annotations']
    if std.objectHas(r, k)
  ]);

{
  groups(groups)::
    'groups:\n' + std.join('', [
      comment(g, '  ') +
      '  - name: ' + quote(g.name) + '\n' +
      (if std.objectHas(g, 'interval') then '    interval: ' + quote(g.interval) + '\n' else '') +
      '    rules:\n' +
      std.join('', [rule(r) for r in g.rules])
      for g in groups
    ]),
}
