// Validates prometheus-operator custom resources (ServiceMonitor, PodMonitor,
// PrometheusRule of monitoring.coreos.com/v1, AlertmanagerConfig of v1alpha1) in YAML
// files against @kubernetes-models/prometheus-operator's schemas, offline. Usage: node validate-crs.mjs FILE...  Exit 1 on any error.
import fs from "node:fs";
import yaml from "js-yaml";
import * as v1 from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import * as v1alpha1 from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1";

const models = {
  "monitoring.coreos.com/v1": v1,
  "monitoring.coreos.com/v1alpha1": v1alpha1,
};

let failed = false;
let checked = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(fs.readFileSync(file, "utf8"))) {
    if (!doc || !models[doc.apiVersion]) continue;
    const Model = models[doc.apiVersion][doc.kind];
    if (!Model) {
      console.error(`${file}: unknown kind ${doc.kind}`);
      failed = true;
      continue;
    }
    checked += 1;
    try {
      new Model(doc).validate();
      console.log(`${file}: ${doc.kind}/${doc.metadata.name} valid`);
    } catch (e) {
      failed = true;
      console.error(`${file}: ${doc.kind}/${doc.metadata && doc.metadata.name} invalid: ${e.message}`);
    }
  }
}
if (checked === 0) {
  console.error("no prometheus-operator resources found");
  failed = true;
}
process.exit(failed ? 1 : 0);
