// Package deploy holds the deployment artefacts: the container config, the
// Kubernetes manifests and Helm chart, the systemd unit, the Grafana
// dashboard and the Prometheus alerts. It has no code of its own; its tests
// check that every artefact agrees with the binary: flags, ports, probe
// paths, the data directory, the config file and the metric names.
package deploy
