package deploy

import (
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// imageUID is the user the image runs as (Dockerfile USER); pods run as it
// too, so that files on their volumes have one owner.
const imageUID = 65532

// cluster is a set of objects applied together, plus the Secrets the
// operator creates beside them (kept out of git on purpose).
type cluster struct {
	objs    []obj
	secrets []obj
}

// checkCluster checks every workload of c against the binary, and the
// Services, PodDisruptionBudgets and ServiceMonitors against the workloads.
func checkCluster(t *testing.T, c cluster) problems {
	t.Helper()
	var p problems
	var pods []obj // pod templates
	for _, kind := range []string{"StatefulSet", "Deployment"} {
		for _, w := range find(c.objs, kind, "") {
			checkWorkload(t, c, w, &p)
			pods = append(pods, getMap(w, "spec", "template"))
		}
	}
	if len(pods) == 0 {
		p.add("no StatefulSet or Deployment")
		return p
	}
	for _, svc := range find(c.objs, "Service", "") {
		checkService(svc, pods, &p)
	}
	for _, pdb := range find(c.objs, "PodDisruptionBudget", "") {
		if !anyPodSelected(getMap(pdb, "spec", "selector"), pods) {
			p.add("%s: its selector matches no pod template", kindName(pdb))
		}
	}
	for _, sm := range find(c.objs, "ServiceMonitor", "") {
		checkServiceMonitor(sm, c.objs, &p)
	}
	return p
}

func anyPodSelected(sel obj, pods []obj) bool {
	for _, pod := range pods {
		if selects(sel, getMap(pod, "metadata", "labels")) {
			return true
		}
	}
	return false
}

// containerPort resolves a probe's or Service's port (a name or a number)
// against the container's ports.
func containerPort(ctr obj, port string) (int64, bool) {
	for _, cp := range getList(ctr, "ports") {
		n, _ := getInt(cp, "containerPort")
		if getString(cp, "name") == port || strconv.FormatInt(n, 10) == port {
			return n, true
		}
	}
	return 0, false
}

func checkWorkload(t *testing.T, c cluster, w obj, p *problems) {
	t.Helper()
	where := kindName(w)
	pod := getMap(w, "spec", "template", "spec")
	labels := getMap(w, "spec", "template", "metadata", "labels")
	if !labelsMatch(getMap(w, "spec", "selector", "matchLabels"), labels) {
		p.add("%s: spec.selector does not match the pod template's labels", where)
	}
	var ctr obj
	for _, e := range getList(pod, "containers") {
		if getString(e, "name") == "eventbridge" {
			ctr, _ = e.(obj)
		}
	}
	if ctr == nil {
		p.add("%s: no container named eventbridge", where)
		return
	}

	// The command line, as the image's ENTRYPOINT (the binary) would get it.
	args := getStrings(ctr, "args")
	if cmd := getStrings(ctr, "command"); len(cmd) > 0 {
		if path.Base(cmd[0]) != "eventbridge" {
			p.add("%s: command %q does not run eventbridge", where, cmd)
		}
		args = append(cmd[1:], args...)
	}
	sa, err := parseServe(args)
	if err != nil {
		p.add("%s: args %q: %v", where, args, err)
		return
	}

	httpPort, ok := containerPort(ctr, "http")
	if !ok {
		p.add("%s: no container port named http", where)
	}
	for _, pr := range []struct{ probe, path string }{
		{"livenessProbe", livePath}, {"readinessProbe", readyPath}, {"startupProbe", livePath},
	} {
		probe := getMap(ctr, pr.probe)
		if probe == nil {
			p.add("%s: no %s", where, pr.probe)
			continue
		}
		if got := getString(probe, "httpGet", "path"); got != pr.path {
			p.add("%s: %s GETs %q, the bridge serves %s", where, pr.probe, got, pr.path)
		}
		if n, ok := containerPort(ctr, getString(probe, "httpGet", "port")); !ok || n != httpPort {
			p.add("%s: %s port %q is not the http container port (%d)", where, pr.probe, getString(probe, "httpGet", "port"), httpPort)
		}
	}

	data, env := configOf(c, pod, ctr, sa.Config, where, p)
	if data == nil {
		return
	}
	cfg, err := parseConfig(t, data, env, sa)
	if err != nil {
		p.add("%s: config %s: %v", where, sa.Config, err)
		return
	}
	port, reachable, err := listenPort(cfg.API.Listen)
	switch {
	case err != nil:
		p.add("%s: api.listen %q: %v", where, cfg.API.Listen, err)
	case port != strconv.FormatInt(httpPort, 10):
		p.add("%s: api.listen %s, but the http container port is %d", where, cfg.API.Listen, httpPort)
	case !reachable:
		p.add("%s: api.listen %s is a loopback address: probes and the Service cannot reach it", where, cfg.API.Listen)
	}

	checkDataDir(w, pod, ctr, cfg.Bus.URL, cfg.Bus.DataDir, p)
	if f := cfg.Bus.Credentials; f != "" {
		onSecret := false
		for _, m := range getList(ctr, "volumeMounts") {
			if getString(m, "mountPath") == path.Dir(f) && getString(volume(pod, getString(m, "name")), "secret", "secretName") != "" {
				onSecret = true
			}
		}
		if !onSecret {
			p.add("%s: bus.credentials %s is not on a Secret volume mounted at %s", where, f, path.Dir(f))
		}
	}

	grace := int64(30) // the Kubernetes default
	if n, ok := getInt(pod, "terminationGracePeriodSeconds"); ok {
		grace = n
	}
	if time.Duration(grace)*time.Second <= cfg.ShutdownTimeout.D() {
		p.add("%s: terminationGracePeriodSeconds %d is not above shutdown_timeout %s: SIGKILL would cut the graceful stop", where, grace, cfg.ShutdownTimeout.D())
	}

	checkSecurity(w, pod, ctr, p)
	for _, r := range []string{"requests", "limits"} {
		if getString(ctr, "resources", r, "memory") == "" {
			p.add("%s: no resources.%s.memory", where, r)
		}
	}
	if sa := getString(pod, "serviceAccountName"); sa != "" && sa != "default" && len(find(c.objs, "ServiceAccount", sa)) == 0 {
		p.add("%s: serviceAccountName %s: no such ServiceAccount", where, sa)
	}
	if getString(w, "kind") == "StatefulSet" {
		name := getString(w, "spec", "serviceName")
		svcs := find(c.objs, "Service", name)
		if len(svcs) == 0 || getString(svcs[0], "spec", "clusterIP") != "None" {
			p.add("%s: serviceName %q is not a headless Service of the set", where, name)
		}
	}
	if replicas, _ := getInt(w, "spec", "replicas"); getString(w, "kind") == "Deployment" && replicas > 1 {
		pdbs := 0
		for _, pdb := range find(c.objs, "PodDisruptionBudget", "") {
			if selects(getMap(pdb, "spec", "selector"), labels) {
				pdbs++
			}
		}
		if pdbs == 0 {
			p.add("%s: %d replicas and no PodDisruptionBudget", where, replicas)
		}
	}
}

// configOf finds the config file the container reads (a ConfigMap mounted
// at the --config path's directory, or on the path itself with subPath),
// and the environment the config's ${env:...} references get.
func configOf(c cluster, pod, ctr obj, cfgPath, where string, p *problems) ([]byte, map[string]string) {
	var data []byte
	found := false
	for _, m := range getList(ctr, "volumeMounts") {
		mp, sub := getString(m, "mountPath"), getString(m, "subPath")
		var key string
		switch {
		case sub == "" && mp == path.Dir(cfgPath):
			key = path.Base(cfgPath)
		case sub != "" && mp == cfgPath:
			key = sub
		default:
			continue
		}
		found = true
		vol := volume(pod, getString(m, "name"))
		cmName := getString(vol, "configMap", "name")
		if cmName == "" {
			p.add("%s: %s is mounted from volume %q, which is not a ConfigMap", where, cfgPath, getString(m, "name"))
			return nil, nil
		}
		for _, it := range getList(vol, "configMap", "items") {
			if getString(it, "path") == key {
				key = getString(it, "key")
			}
		}
		cms := find(c.objs, "ConfigMap", cmName)
		if len(cms) == 0 {
			p.add("%s: volume %q names ConfigMap %s, which is not in the set", where, getString(m, "name"), cmName)
			return nil, nil
		}
		s, ok := get(cms[0], "data", key).(string)
		if !ok {
			p.add("%s: ConfigMap %s has no key %s for --config %s", where, cmName, key, cfgPath)
			return nil, nil
		}
		data = []byte(s)
	}
	if !found {
		p.add("%s: --config %s is on no ConfigMap mount", where, cfgPath)
		return nil, nil
	}
	env := map[string]string{}
	for _, e := range getList(ctr, "env") {
		name := getString(e, "name")
		if ref := getMap(e, "valueFrom", "secretKeyRef"); ref != nil {
			if !secretHasKey(append(find(c.objs, "Secret", ""), c.secrets...), getString(ref, "name"), getString(ref, "key")) {
				p.add("%s: env %s: no Secret %s with key %s", where, name, getString(ref, "name"), getString(ref, "key"))
			}
			env[name] = testToken
			continue
		}
		env[name] = getString(e, "value")
	}
	return data, env
}

func secretHasKey(secrets []obj, name, key string) bool {
	for _, s := range secrets {
		if getString(s, "metadata", "name") != name {
			continue
		}
		if get(s, "data", key) != nil || get(s, "stringData", key) != nil {
			return true
		}
	}
	return false
}

func volume(pod obj, name string) obj {
	for _, v := range getList(pod, "volumes") {
		if getString(v, "name") == name {
			m, _ := v.(obj)
			return m
		}
	}
	return nil
}

// checkDataDir: with the embedded bus, the data directory must be on the
// StatefulSet's own PersistentVolume and the StatefulSet must have one
// replica; with an external bus, nothing is kept on the pod.
func checkDataDir(w, pod, ctr obj, busURL, dataDir string, p *problems) {
	where := kindName(w)
	if busURL != "" {
		return
	}
	if getString(w, "kind") != "StatefulSet" {
		p.add("%s: the embedded bus (no bus.url) needs a StatefulSet with a volume, not a %s", where, getString(w, "kind"))
		return
	}
	if n, _ := getInt(w, "spec", "replicas"); n != 1 {
		p.add("%s: %d replicas: the embedded bus is a single node", where, n)
	}
	var claims []string
	for _, ct := range getList(w, "spec", "volumeClaimTemplates") {
		claims = append(claims, getString(ct, "metadata", "name"))
	}
	dd := path.Clean(dataDir)
	for _, m := range getList(ctr, "volumeMounts") {
		mp := path.Clean(getString(m, "mountPath"))
		if dd != mp && !strings.HasPrefix(dd, mp+"/") {
			continue
		}
		if name := getString(m, "name"); !slices.Contains(claims, name) {
			p.add("%s: bus.data_dir %s is on volume %q, not on a volumeClaimTemplate (%v)", where, dataDir, name, claims)
		}
		if getString(m, "readOnly") == "true" {
			p.add("%s: bus.data_dir %s is mounted read-only", where, dataDir)
		}
		return
	}
	p.add("%s: bus.data_dir %s is on no volume mount (the root filesystem is read-only and not kept)", where, dataDir)
}

func checkSecurity(w, pod, ctr obj, p *problems) {
	where := kindName(w)
	podSC, sc := getMap(pod, "securityContext"), getMap(ctr, "securityContext")
	either := func(key string) string {
		if v := getString(sc, key); v != "" {
			return v
		}
		return getString(podSC, key)
	}
	if either("runAsNonRoot") != "true" {
		p.add("%s: runAsNonRoot is not true", where)
	}
	if uid := either("runAsUser"); uid != strconv.Itoa(imageUID) {
		p.add("%s: runAsUser %q, the image's user is %d", where, uid, imageUID)
	}
	if getString(sc, "readOnlyRootFilesystem") != "true" {
		p.add("%s: readOnlyRootFilesystem is not true", where)
	}
	if getString(sc, "allowPrivilegeEscalation") != "false" {
		p.add("%s: allowPrivilegeEscalation is not false", where)
	}
	if !slices.Contains(getStrings(sc, "capabilities", "drop"), "ALL") {
		p.add("%s: capabilities do not drop ALL", where)
	}
	if getList(w, "spec", "volumeClaimTemplates") != nil && getString(podSC, "fsGroup") == "" {
		p.add("%s: no fsGroup: the volume may not be writable by uid %d", where, imageUID)
	}
}

func checkService(svc obj, pods []obj, p *problems) {
	where := kindName(svc)
	var pod obj
	for _, tp := range pods {
		if labelsMatch(getMap(svc, "spec", "selector"), getMap(tp, "metadata", "labels")) {
			pod = tp
		}
	}
	if pod == nil {
		p.add("%s: its selector matches no pod template", where)
		return
	}
	typ := getString(svc, "spec", "type")
	if typ != "" && typ != "ClusterIP" {
		p.add("%s: type %s, want ClusterIP", where, typ)
	}
	for _, sp := range getList(svc, "spec", "ports") {
		found := false
		for _, ctr := range getList(pod, "spec", "containers") {
			if _, ok := containerPort(ctr.(obj), getString(sp, "targetPort")); ok {
				found = true
			}
		}
		if !found {
			p.add("%s: targetPort %q is no container port", where, getString(sp, "targetPort"))
		}
	}
}

func checkServiceMonitor(sm obj, objs []obj, p *problems) {
	where := kindName(sm)
	var matched []obj
	for _, svc := range find(objs, "Service", "") {
		if selects(getMap(sm, "spec", "selector"), getMap(svc, "metadata", "labels")) {
			matched = append(matched, svc)
		}
	}
	if len(matched) != 1 {
		var names []string
		for _, s := range matched {
			names = append(names, kindName(s))
		}
		p.add("%s: selects %d Services %v, want exactly one (or pods are scraped twice)", where, len(matched), names)
		return
	}
	for _, ep := range getList(sm, "spec", "endpoints") {
		if got := getString(ep, "path"); got != metricsPath {
			p.add("%s: path %q, the bridge serves %s", where, got, metricsPath)
		}
		found := false
		for _, sp := range getList(matched[0], "spec", "ports") {
			if getString(sp, "name") == getString(ep, "port") {
				found = true
			}
		}
		if !found {
			p.add("%s: port %q is not a port of %s", where, getString(ep, "port"), kindName(matched[0]))
		}
	}
}
