package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

const k8sDir = "k8s"

// manifests holds every object under k8s/, decoded strictly into its typed
// Kubernetes API struct: an unknown or misspelt field fails the test.
type manifests struct {
	files       map[string][]any // file name -> objects in order
	namespaces  map[string]*corev1.Namespace
	configMaps  map[string]*corev1.ConfigMap
	secrets     map[string]*corev1.Secret
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	pdbs        map[string]*policyv1.PodDisruptionBudget
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{
		files:       map[string][]any{},
		namespaces:  map[string]*corev1.Namespace{},
		configMaps:  map[string]*corev1.ConfigMap{},
		secrets:     map[string]*corev1.Secret{},
		deployments: map[string]*appsv1.Deployment{},
		services:    map[string]*corev1.Service{},
		pdbs:        map[string]*policyv1.PodDisruptionBudget{},
	}
	paths, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		name := filepath.Base(path)
		if name == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range docSeparator.Split(string(data), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			obj := decodeObject(t, path, i, []byte(doc))
			m.files[name] = append(m.files[name], obj)
			switch o := obj.(type) {
			case *corev1.Namespace:
				m.namespaces[o.Name] = o
			case *corev1.ConfigMap:
				m.configMaps[o.Name] = o
			case *corev1.Secret:
				m.secrets[o.Name] = o
			case *appsv1.Deployment:
				m.deployments[o.Name] = o
			case *corev1.Service:
				m.services[o.Name] = o
			case *policyv1.PodDisruptionBudget:
				m.pdbs[o.Name] = o
			}
		}
	}
	return m
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// decodeObject picks the typed struct from apiVersion and kind, then decodes
// strictly (unknown fields and duplicate keys are errors).
func decodeObject(t *testing.T, path string, doc int, data []byte) any {
	t.Helper()
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(data, &tm); err != nil {
		t.Fatalf("%s, document %d: %v", path, doc, err)
	}
	var obj any
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 Namespace":
		obj = &corev1.Namespace{}
	case "v1 ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1 Secret":
		obj = &corev1.Secret{}
	case "v1 Service":
		obj = &corev1.Service{}
	case "apps/v1 Deployment":
		obj = &appsv1.Deployment{}
	case "policy/v1 PodDisruptionBudget":
		obj = &policyv1.PodDisruptionBudget{}
	default:
		t.Fatalf("%s, document %d: unexpected %s %s", path, doc, tm.APIVersion, tm.Kind)
	}
	if err := yaml.UnmarshalStrict(data, obj); err != nil {
		t.Fatalf("%s, document %d (%s): %v", path, doc, tm.Kind, err)
	}
	return obj
}

func TestK8sStrictDecode(t *testing.T) {
	m := loadManifests(t)
	if len(m.namespaces) != 1 || m.namespaces["dag"] == nil {
		t.Fatalf("namespaces %v, want just dag", m.namespaces)
	}
	for file, objs := range m.files {
		for _, obj := range objs {
			meta := obj.(metav1.Object)
			if _, ok := obj.(*corev1.Namespace); ok {
				continue
			}
			if meta.GetNamespace() != "dag" {
				t.Errorf("%s: %s is in namespace %q, want dag", file, meta.GetName(), meta.GetNamespace())
			}
			if meta.GetLabels()["app.kubernetes.io/part-of"] != "dag" {
				t.Errorf("%s: %s lacks label app.kubernetes.io/part-of=dag", file, meta.GetName())
			}
		}
	}
	for _, name := range []string{"dag-worker-cpu", "dag-worker-gpu"} {
		if m.deployments[name] == nil {
			t.Errorf("no Deployment %s", name)
		}
	}
}

type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

func TestK8sKustomization(t *testing.T) {
	m := loadManifests(t)
	data, err := os.ReadFile(filepath.Join(k8sDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml: %s %s", k.APIVersion, k.Kind)
	}
	// Every manifest is applied except the example Secret, which must never
	// overwrite real credentials.
	var want []string
	for file := range m.files {
		if !strings.HasSuffix(file, ".example.yaml") {
			want = append(want, file)
		}
	}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(got, want) {
		t.Errorf("kustomization resources %v, want %v", got, want)
	}
	var images []string
	for _, img := range k.Images {
		images = append(images, img.Name)
	}
	for name, d := range m.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			repo, _, _ := strings.Cut(c.Image, ":")
			if !slices.Contains(images, repo) {
				t.Errorf("%s: image %s is not set in kustomization.yaml", name, c.Image)
			}
		}
	}
}

func metricsPort(t *testing.T, m *manifests) int32 {
	t.Helper()
	addr := m.configMaps["dag-config"].Data["DAG_METRICS_ADDR"]
	_, port, ok := strings.Cut(addr, ":")
	if !ok {
		t.Fatalf("dag-config: DAG_METRICS_ADDR=%q has no port", addr)
	}
	n, err := strconv.ParseInt(port, 10, 32)
	if err != nil {
		t.Fatalf("dag-config: DAG_METRICS_ADDR=%q: %v", addr, err)
	}
	return int32(n)
}

func TestK8sConfig(t *testing.T) {
	m := loadManifests(t)
	cm := m.configMaps["dag-config"]
	if cm == nil {
		t.Fatal("no ConfigMap dag-config")
	}
	for _, key := range []string{
		"DAG_TEMPORAL_ADDRESS", "DAG_NAMESPACE", "DAG_STORE", "DAG_S3_ENDPOINT",
		"DAG_METRICS_ADDR", "OTEL_EXPORTER_OTLP_ENDPOINT",
	} {
		if cm.Data[key] == "" {
			t.Errorf("dag-config: %s is empty", key)
		}
	}
	if !strings.HasPrefix(cm.Data["DAG_STORE"], "s3://") {
		t.Errorf("dag-config: DAG_STORE=%q is not s3://", cm.Data["DAG_STORE"])
	}
	for key := range cm.Data {
		if strings.HasPrefix(key, "AWS_") {
			t.Errorf("dag-config holds credential %s; it belongs in the Secret", key)
		}
	}
	// The TLS settings the ConfigMap documents point into the mounted Secret.
	data, err := os.ReadFile(filepath.Join(k8sDir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"DAG_TEMPORAL_TLS_CA", "DAG_TEMPORAL_TLS_CERT", "DAG_TEMPORAL_TLS_KEY", "DAG_TEMPORAL_TLS_SERVER_NAME"} {
		if !bytes.Contains(data, []byte(key+":")) {
			t.Errorf("config.yaml does not document %s", key)
		}
	}
	s := m.secrets["dag-s3"]
	if s == nil {
		t.Fatal("no example Secret dag-s3")
	}
	for _, key := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if _, ok := s.StringData[key]; !ok {
			t.Errorf("Secret dag-s3 example has no %s", key)
		}
	}
}

func TestK8sWorkers(t *testing.T) {
	m := loadManifests(t)
	port := metricsPort(t, m)
	for name, queue := range workers {
		d := m.deployments["dag-"+name]
		if d == nil {
			t.Fatalf("no Deployment dag-%s", name)
		}
		spec := d.Spec.Template.Spec
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			t.Fatalf("%s: selector: %v", d.Name, err)
		}
		if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("%s: selector does not match its pod template", d.Name)
		}
		if g := spec.TerminationGracePeriodSeconds; g == nil || *g < 300 {
			t.Errorf("%s: terminationGracePeriodSeconds %v leaves too little time to drain", d.Name, g)
		}
		if len(spec.Containers) != 1 {
			t.Fatalf("%s: %d containers, want 1", d.Name, len(spec.Containers))
		}
		c := spec.Containers[0]
		// args, not command: the image's entrypoint (tini) stays PID 1.
		if want := []string{"dag", "worker", "--queues", queue}; !slices.Equal(c.Args[:min(4, len(c.Args))], want) || len(c.Command) != 0 {
			t.Errorf("%s: command %q args %q, want args %q", d.Name, c.Command, c.Args, want)
		}
		if g := spec.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= drainTimeout(t, c.Args) {
			t.Errorf("%s: terminationGracePeriodSeconds does not exceed --drain-timeout in %q", d.Name, c.Args)
		}
		if !strings.HasPrefix(c.Image, "dag-worker-"+queue+":") {
			t.Errorf("%s: image %s", d.Name, c.Image)
		}
		var fromConfig, fromSecret bool
		for _, ef := range c.EnvFrom {
			if ef.ConfigMapRef != nil && m.configMaps[ef.ConfigMapRef.Name] != nil {
				fromConfig = true
			}
			if ef.SecretRef != nil && ef.SecretRef.Name == "dag-s3" && (ef.SecretRef.Optional == nil || !*ef.SecretRef.Optional) {
				fromSecret = true
			}
		}
		if !fromConfig || !fromSecret {
			t.Errorf("%s: envFrom %+v, want ConfigMap dag-config and Secret dag-s3", d.Name, c.EnvFrom)
		}
		envs := map[string]string{}
		for _, e := range c.Env {
			envs[e.Name] = e.Value
		}
		if envs["DAG_HOME"] == "" || envs["OTEL_SERVICE_NAME"] != "dag-"+name {
			t.Errorf("%s: env %v, want DAG_HOME and OTEL_SERVICE_NAME=dag-%s", d.Name, envs, name)
		}
		if queue == "gpu" && envs["DAG_PYTHON"] == "" {
			t.Errorf("%s: DAG_PYTHON is not set", d.Name)
		}
		var home bool
		for _, vm := range c.VolumeMounts {
			home = home || vm.MountPath == envs["DAG_HOME"]
		}
		if !home {
			t.Errorf("%s: nothing mounted at DAG_HOME %s", d.Name, envs["DAG_HOME"])
		}

		if len(c.Ports) != 1 || c.Ports[0].Name != "metrics" || c.Ports[0].ContainerPort != port {
			t.Errorf("%s: ports %+v, want metrics on %d", d.Name, c.Ports, port)
		}
		for probeName, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/metrics" || p.HTTPGet.Port.String() != "metrics" {
				t.Errorf("%s: %s probe is not GET /metrics on the metrics port", d.Name, probeName)
			}
		}
		if _, ok := c.Resources.Requests[corev1.ResourceMemory]; !ok {
			t.Errorf("%s: no memory request", d.Name)
		}
		if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
			t.Errorf("%s: no memory limit", d.Name)
		}
		if spec.SecurityContext == nil || spec.SecurityContext.RunAsNonRoot == nil || !*spec.SecurityContext.RunAsNonRoot {
			t.Errorf("%s: does not run as non-root", d.Name)
		}

		gpus := c.Resources.Limits[corev1.ResourceName("nvidia.com/gpu")]
		var tolerates bool
		for _, tol := range spec.Tolerations {
			tolerates = tolerates || tol.Key == "nvidia.com/gpu"
		}
		if queue == "gpu" {
			if gpus.Value() < 1 {
				t.Errorf("%s: limits nvidia.com/gpu %s, want at least 1", d.Name, gpus.String())
			}
			if !tolerates {
				t.Errorf("%s: does not tolerate the nvidia.com/gpu taint", d.Name)
			}
		} else if !gpus.IsZero() || tolerates {
			t.Errorf("%s: a CPU worker asks for GPU nodes", d.Name)
		}
	}
}

func TestK8sServiceAndPDB(t *testing.T) {
	m := loadManifests(t)
	port := metricsPort(t, m)
	svc := m.services["dag-worker-metrics"]
	if svc == nil {
		t.Fatal("no Service dag-worker-metrics")
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != port || svc.Spec.Ports[0].TargetPort.String() != "metrics" {
		t.Errorf("dag-worker-metrics: ports %+v, want %d -> metrics", svc.Spec.Ports, port)
	}
	for name := range workers {
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(m.deployments["dag-"+name].Spec.Template.Labels)) {
			t.Errorf("Service dag-worker-metrics does not select dag-%s", name)
		}
	}

	for name := range workers {
		d := m.deployments["dag-"+name]
		var covered int
		for _, pdb := range m.pdbs {
			sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
			if err != nil {
				t.Fatalf("PodDisruptionBudget %s: %v", pdb.Name, err)
			}
			if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				covered++
				if (pdb.Spec.MinAvailable == nil) == (pdb.Spec.MaxUnavailable == nil) {
					t.Errorf("PodDisruptionBudget %s: set exactly one of minAvailable and maxUnavailable", pdb.Name)
				}
			}
		}
		if covered != 1 {
			t.Errorf("%s is covered by %d PodDisruptionBudgets, want 1", d.Name, covered)
		}
	}
}
