package deploy

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kustomize reads a kustomization the way `kubectl apply -k` would, for what
// these manifests use: resources (files and directories) and
// configMapGenerator (files, as key=path or path). The generated ConfigMaps
// keep their plain names: kustomize's hash suffix is applied to the
// references too, so the names still agree.
func kustomize(t *testing.T, dir string) []obj {
	t.Helper()
	docs := readDocs(t, filepath.Join(dir, "kustomization.yaml"))
	if len(docs) != 1 || getString(docs[0], "kind") != "Kustomization" {
		t.Fatalf("%s: not one Kustomization", dir)
	}
	k := docs[0]
	var objs []obj
	for _, r := range getStrings(k, "resources") {
		p := filepath.Join(dir, r)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			objs = append(objs, kustomize(t, p)...)
			continue
		}
		objs = append(objs, readDocs(t, p)...)
	}
	for _, g := range getList(k, "configMapGenerator") {
		data := obj{}
		for _, f := range getStrings(g, "files") {
			key, file, ok := strings.Cut(f, "=")
			if !ok {
				key, file = filepath.Base(f), f
			}
			data[key] = string(readFile(t, filepath.Join(dir, file)))
		}
		objs = append(objs, obj{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": obj{"name": getString(g, "name")},
			"data":     data,
		})
	}
	return objs
}

const k8sDir = "kubernetes"

func TestKubernetesManifestsParse(t *testing.T) {
	n := 0
	err := filepath.WalkDir(k8sDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".yaml" {
			return err
		}
		n++
		for i, o := range readDocs(t, p) {
			switch {
			case filepath.Base(p) == "eventbridge.yaml":
				// a config file, checked where a workload mounts it
			case getString(o, "apiVersion") == "" || getString(o, "kind") == "":
				t.Errorf("%s: document %d has no apiVersion or kind", p, i)
			case getString(o, "kind") != "Kustomization" && getString(o, "metadata", "name") == "":
				t.Errorf("%s: %s has no name", p, getString(o, "kind"))
			}
		}
		return nil
	})
	if err != nil || n < 10 {
		t.Fatalf("walked %d manifests: %v", n, err)
	}
}

// kubernetesVariants are the directories to `kubectl apply -k`.
var kubernetesVariants = []string{"embedded", "external"}

func TestKubernetesVariantsAgreeWithTheBinary(t *testing.T) {
	secrets := readDocs(t, filepath.Join(k8sDir, "base", "secret.example.yaml"))
	monitor := readDocs(t, filepath.Join(k8sDir, "monitoring", "servicemonitor.yaml"))
	for _, v := range kubernetesVariants {
		t.Run(v, func(t *testing.T) {
			objs := append(kustomize(t, filepath.Join(k8sDir, v)), monitor...)
			checkCluster(t, cluster{objs: objs, secrets: secrets}).report(t, v)
		})
	}
}

func TestKubernetesVariantShapes(t *testing.T) {
	emb := kustomize(t, filepath.Join(k8sDir, "embedded"))
	if len(find(emb, "StatefulSet", "")) != 1 || len(find(emb, "Deployment", "")) != 0 {
		t.Error("embedded: want one StatefulSet and no Deployment")
	}
	ext := kustomize(t, filepath.Join(k8sDir, "external"))
	deps := find(ext, "Deployment", "")
	if len(deps) != 1 || len(find(ext, "StatefulSet", "")) != 0 {
		t.Fatal("external: want one Deployment and no StatefulSet")
	}
	if n, _ := getInt(deps[0], "spec", "replicas"); n != 2 {
		t.Errorf("external: %d replicas, want 2", n)
	}
	if len(find(ext, "PodDisruptionBudget", "")) != 1 {
		t.Error("external: want a PodDisruptionBudget")
	}
	for _, v := range [][]obj{emb, ext} {
		svc := find(v, "Service", "eventbridge")
		if len(svc) != 1 {
			t.Fatal("no Service eventbridge")
		}
		if port, _ := getInt(svc[0], "spec", "ports", "0", "port"); port != 8080 {
			t.Errorf("Service eventbridge: port %d, want 8080", port)
		}
	}
}
