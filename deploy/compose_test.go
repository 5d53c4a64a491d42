package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads and validates ../docker-compose.yml with compose's own
// loader (schema, interpolation, consistency) and only the given environment,
// never the caller's.
func loadCompose(t *testing.T, env []string, profiles ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join("..", "docker-compose.yml")},
		cli.WithWorkingDirectory(".."),
		cli.WithEnv(env),
		cli.WithProfiles(profiles),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(t.Context())
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("docker-compose.yml: no service %s", name)
	}
	return s
}

func env(t *testing.T, s types.ServiceConfig, key string) string {
	t.Helper()
	v, ok := s.Environment[key]
	if !ok || v == nil {
		t.Fatalf("service %s: environment has no %s", s.Name, key)
	}
	return *v
}

var workers = map[string]string{"worker-cpu": "cpu", "worker-gpu": "gpu"}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t, nil, "*")
	if p.Name != "dag" {
		t.Errorf("project name %q, want dag", p.Name)
	}
	want := []string{
		"jaeger", "minio", "minio-bucket", "postgresql", "prometheus", "temporal",
		"temporal-namespace", "temporal-schema", "temporal-ui", "worker-cpu", "worker-gpu",
	}
	if got := p.ServiceNames(); !slices.Equal(got, want) {
		t.Errorf("services %v, want %v", got, want)
	}

	// Without the gpu profile the stack runs on a machine with no GPU.
	plain := loadCompose(t, nil)
	if _, ok := plain.Services["worker-gpu"]; ok {
		t.Error("worker-gpu runs without --profile gpu")
	}
	if _, ok := plain.DisabledServices["worker-gpu"]; !ok {
		t.Error("worker-gpu is not behind a profile")
	}
}

// oneShot reports whether a service is a setup step that exits when done.
func oneShot(s types.ServiceConfig) bool {
	return strings.HasPrefix(s.Restart, "on-failure") || s.Restart == "no"
}

func TestComposeHealthAndOrder(t *testing.T) {
	p := loadCompose(t, nil, "*")
	for name, s := range p.Services {
		if oneShot(s) {
			if s.HealthCheck != nil {
				t.Errorf("one-shot %s has a healthcheck", name)
			}
		} else {
			if s.Restart != "unless-stopped" {
				t.Errorf("service %s: restart %q, want unless-stopped", name, s.Restart)
			}
			// The UI is the only long-running service nothing waits for.
			if name != "temporal-ui" && (s.HealthCheck == nil || len(s.HealthCheck.Test) == 0) {
				t.Errorf("service %s has no healthcheck", name)
			}
		}
		for dep, d := range s.DependsOn {
			target := service(t, p, dep)
			switch d.Condition {
			case types.ServiceConditionHealthy:
				if target.HealthCheck == nil {
					t.Errorf("%s waits for %s to be healthy, which has no healthcheck", name, dep)
				}
			case types.ServiceConditionCompletedSuccessfully:
				if !oneShot(target) {
					t.Errorf("%s waits for %s to complete, which runs forever", name, dep)
				}
			case types.ServiceConditionStarted:
			default:
				t.Errorf("%s depends on %s with condition %q", name, dep, d.Condition)
			}
		}
	}

	chain := []struct{ from, to, cond string }{
		{"temporal-schema", "postgresql", types.ServiceConditionHealthy},
		{"temporal", "temporal-schema", types.ServiceConditionCompletedSuccessfully},
		{"temporal-namespace", "temporal", types.ServiceConditionHealthy},
		{"minio-bucket", "minio", types.ServiceConditionHealthy},
		{"worker-cpu", "temporal-namespace", types.ServiceConditionCompletedSuccessfully},
		{"worker-cpu", "minio-bucket", types.ServiceConditionCompletedSuccessfully},
		{"worker-gpu", "temporal-namespace", types.ServiceConditionCompletedSuccessfully},
		{"worker-gpu", "minio-bucket", types.ServiceConditionCompletedSuccessfully},
	}
	for _, c := range chain {
		d, ok := service(t, p, c.from).DependsOn[c.to]
		if !ok || d.Condition != c.cond {
			t.Errorf("%s: depends_on %s %q, want %q", c.from, c.to, d.Condition, c.cond)
		}
	}
}

func TestComposeImagesPinned(t *testing.T) {
	p := loadCompose(t, nil, "*")
	for name, s := range p.Services {
		if s.Build != nil {
			continue
		}
		_, tag, ok := strings.Cut(s.Image[strings.LastIndex(s.Image, "/")+1:], ":")
		if !ok || tag == "" || tag == "latest" {
			t.Errorf("service %s: image %q is not pinned to a tag", name, s.Image)
		}
	}
}

func TestComposeVolumes(t *testing.T) {
	p := loadCompose(t, nil, "*")
	// Everything that must survive `docker compose down && up` sits on a
	// named volume.
	durable := map[string]string{
		"postgresql": "/var/lib/postgresql/data",
		"minio":      "/data",
		"jaeger":     "/badger",
		"prometheus": "/prometheus",
		"worker-cpu": "/var/lib/dag",
		"worker-gpu": "/var/lib/dag",
	}
	for name, target := range durable {
		var found bool
		for _, v := range service(t, p, name).Volumes {
			if v.Target == target {
				found = true
				if v.Type != types.VolumeTypeVolume {
					t.Errorf("%s: %s is a %s mount, want a named volume", name, target, v.Type)
				} else if _, ok := p.Volumes[v.Source]; !ok {
					t.Errorf("%s: volume %s is not declared", name, v.Source)
				}
			}
		}
		if !found {
			t.Errorf("%s: nothing mounted at %s", name, target)
		}
	}
	// Bind mounts name files of this repository.
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s: bind mount source: %v", name, err)
			}
			if !v.ReadOnly {
				t.Errorf("%s: bind mount %s is writable", name, v.Source)
			}
		}
	}
}

func TestComposeWorkers(t *testing.T) {
	p := loadCompose(t, nil, "*")
	minio := service(t, p, "minio")
	bucket := env(t, service(t, p, "minio-bucket"), "DAG_BUCKET")
	for name, queue := range workers {
		s := service(t, p, name)
		if want := []string{"dag", "worker", "--queues", queue}; !slices.Equal(s.Command[:min(4, len(s.Command))], want) {
			t.Errorf("%s: command %q, want %q", name, s.Command, want)
		}
		// Stages get the drain timeout; the stop grace period must exceed it.
		if drain := drainTimeout(t, s.Command); s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) <= drain {
			t.Errorf("%s: stop_grace_period %v does not exceed --drain-timeout %s", name, s.StopGracePeriod, drain)
		}
		if len(s.Entrypoint) != 0 {
			t.Errorf("%s: entrypoint %q overrides the image's init", name, s.Entrypoint)
		}
		if s.Build == nil || s.Build.Target != name || filepath.Base(s.Build.Dockerfile) != "Dockerfile" {
			t.Errorf("%s: build %+v, want deploy/Dockerfile target %s", name, s.Build, name)
		} else if _, err := os.Stat(filepath.Join(s.Build.Context, s.Build.Dockerfile)); err != nil {
			t.Errorf("%s: %v", name, err)
		}

		for key, want := range map[string]string{
			"DAG_TEMPORAL_ADDRESS":  "temporal:7233",
			"DAG_NAMESPACE":         "default",
			"DAG_STORE":             "s3://" + bucket + "/cache",
			"DAG_S3_ENDPOINT":       "minio:9000",
			"DAG_S3_INSECURE":       "1",
			"AWS_ACCESS_KEY_ID":     env(t, minio, "MINIO_ROOT_USER"),
			"AWS_SECRET_ACCESS_KEY": env(t, minio, "MINIO_ROOT_PASSWORD"),
			"DAG_HOME":              "/var/lib/dag",
			"DAG_METRICS_ADDR":      ":9464",
			"OTEL_SERVICE_NAME":     "dag-" + name,
		} {
			if got := env(t, s, key); got != want {
				t.Errorf("%s: %s=%q, want %q", name, key, got, want)
			}
		}
		otlp := env(t, s, "OTEL_EXPORTER_OTLP_ENDPOINT")
		host, port, _ := strings.Cut(strings.TrimPrefix(otlp, "http://"), ":")
		if _, ok := p.Services[host]; !ok || port != "4317" {
			t.Errorf("%s: OTEL_EXPORTER_OTLP_ENDPOINT=%q names no service's OTLP gRPC port", name, otlp)
		}

		if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) < 5*time.Minute {
			t.Errorf("%s: stop_grace_period %v leaves too little time to drain", name, s.StopGracePeriod)
		}
		if s.HealthCheck == nil || !strings.Contains(strings.Join(s.HealthCheck.Test, " "), "9464") {
			t.Errorf("%s: healthcheck does not probe the metrics port", name)
		}
	}

	gpu := service(t, p, "worker-gpu")
	if env(t, gpu, "DAG_PYTHON") == "" {
		t.Error("worker-gpu: DAG_PYTHON is empty")
	}
	if !slices.Contains(gpu.Profiles, "gpu") {
		t.Errorf("worker-gpu: profiles %v, want gpu", gpu.Profiles)
	}
	if service(t, p, "worker-cpu").Deploy != nil {
		t.Error("worker-cpu reserves devices")
	}
}

func TestComposeGPUReservation(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want types.DeviceCount
	}{
		{nil, -1}, // all
		{[]string{"DAG_GPUS=2"}, 2},
	} {
		gpu := service(t, loadCompose(t, tc.env, "gpu"), "worker-gpu")
		if gpu.Deploy == nil || gpu.Deploy.Resources.Reservations == nil {
			t.Fatal("worker-gpu: no deploy.resources.reservations")
		}
		devices := gpu.Deploy.Resources.Reservations.Devices
		if len(devices) != 1 {
			t.Fatalf("worker-gpu: %d device reservations, want 1", len(devices))
		}
		d := devices[0]
		if d.Driver != "nvidia" || !slices.Contains(d.Capabilities, "gpu") || d.Count != tc.want {
			t.Errorf("env %v: worker-gpu reserves %+v, want driver nvidia, capability gpu, count %d", tc.env, d, tc.want)
		}
	}
}

func TestComposeInterpolation(t *testing.T) {
	p := loadCompose(t, []string{
		"DAG_BUCKET=team", "DAG_PREFIX=alignment", "MINIO_ROOT_USER=u", "MINIO_ROOT_PASSWORD=p4ssw0rd!",
	}, "*")
	w := service(t, p, "worker-cpu")
	if got := env(t, w, "DAG_STORE"); got != "s3://team/alignment" {
		t.Errorf("DAG_STORE=%q", got)
	}
	if got := env(t, service(t, p, "minio-bucket"), "DAG_BUCKET"); got != "team" {
		t.Errorf("minio-bucket creates %q", got)
	}
	if env(t, w, "AWS_ACCESS_KEY_ID") != "u" || env(t, w, "AWS_SECRET_ACCESS_KEY") != "p4ssw0rd!" {
		t.Error("workers do not take the MinIO credentials")
	}
}

// drainTimeout is a worker command's --drain-timeout (the default when
// absent).
func drainTimeout(t *testing.T, args []string) time.Duration {
	t.Helper()
	for i, a := range args {
		if a == "--drain-timeout" && i+1 < len(args) {
			d, err := time.ParseDuration(args[i+1])
			if err != nil {
				t.Fatalf("--drain-timeout %q: %v", args[i+1], err)
			}
			return d
		}
	}
	return 2 * time.Minute
}
