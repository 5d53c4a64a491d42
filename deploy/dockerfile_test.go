package deploy

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dagproject/dag/internal/gobuild"
)

// instruction is one Dockerfile instruction with continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, ...
	args string
}

// stage is one FROM and the instructions under it.
type stage struct {
	base, name string
	body       []instruction
}

func parseDockerfile(t *testing.T, path string) (args map[string]string, stages []*stage) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	args = map[string]string{}
	var line strings.Builder
	sc := bufio.NewScanner(f)
	flush := func() {
		text := strings.TrimSpace(line.String())
		line.Reset()
		if text == "" {
			return
		}
		cmd, rest, _ := strings.Cut(text, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(rest)}
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			s := &stage{base: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
		case in.cmd == "ARG" && len(stages) == 0:
			k, v, _ := strings.Cut(in.args, "=")
			args[k] = v
		case len(stages) == 0:
			t.Fatalf("%s: %s before the first FROM", path, in.cmd)
		default:
			s := stages[len(stages)-1]
			s.body = append(s.body, in)
		}
	}
	for sc.Scan() {
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(trimmed, `\`) {
			line.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		line.WriteString(trimmed)
		flush()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	flush()
	return args, stages
}

func (s *stage) find(cmd string) []instruction {
	var out []instruction
	for _, in := range s.body {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

var argRef = regexp.MustCompile(`\$\{(\w+)\}`)

func TestDockerfile(t *testing.T) {
	args, stages := parseDockerfile(t, "Dockerfile")
	byName := map[string]*stage{}
	for _, s := range stages {
		s.base = argRef.ReplaceAllStringFunc(s.base, func(ref string) string {
			return args[argRef.FindStringSubmatch(ref)[1]]
		})
		byName[s.name] = s
		if _, isStage := byName[s.base]; isStage {
			continue
		}
		_, tag, ok := strings.Cut(s.base[strings.LastIndex(s.base, "/")+1:], ":")
		if !ok || tag == "" || tag == "latest" {
			t.Errorf("stage %s: base image %q is not pinned", s.name, s.base)
		}
	}

	build := byName["build"]
	if build == nil {
		t.Fatal("Dockerfile: no build stage")
	}
	// The Go release is part of a binary's bytes: the image builds with
	// the one go.mod names, so its digests match `make build` there.
	if want := "golang:" + goVersion(t); build.base != want {
		t.Errorf("build stage FROM %s, want %s (go.mod's release)", build.base, want)
	}
	env := map[string]string{}
	for _, in := range build.find("ENV") {
		for k, v := range envAssignments(in.args) {
			env[k] = v
		}
	}
	for _, kv := range gobuild.Env {
		k, v, _ := strings.Cut(kv, "=")
		if env[k] != v {
			t.Errorf("build stage: ENV %s=%q, want %q (the settings of every dag build)", k, env[k], v)
		}
	}
	var built bool
	for _, in := range build.find("RUN") {
		built = built || (strings.Contains(in.args, "go build -o /out/ ./cmd/..."))
	}
	if !built {
		t.Error("build stage: no `go build -o /out/ ./cmd/...` (with no flags beyond the ENV settings)")
	}

	for name, queue := range workers {
		s := byName[name]
		if s == nil {
			t.Errorf("Dockerfile: no stage %s", name)
			continue
		}
		switch queue {
		case "cpu":
			if !strings.HasPrefix(s.base, "debian:") || !strings.HasSuffix(s.base, "-slim") {
				t.Errorf("%s: FROM %s, want a Debian slim image", name, s.base)
			}
		case "gpu":
			if !strings.HasPrefix(s.base, "pytorch/pytorch:") || !strings.Contains(s.base, "cuda") {
				t.Errorf("%s: FROM %s, want a PyTorch CUDA image", name, s.base)
			}
		}
		var binaries bool
		for _, in := range s.find("COPY") {
			binaries = binaries || strings.HasPrefix(in.args, "--from=build /out/ ")
		}
		if !binaries {
			t.Errorf("%s: does not copy the binaries from the build stage", name)
		}
		if user := s.find("USER"); len(user) == 0 || user[len(user)-1].args == "root" {
			t.Errorf("%s: runs as root", name)
		}
		var cmd []string
		if c := s.find("CMD"); len(c) > 0 {
			if err := json.Unmarshal([]byte(c[len(c)-1].args), &cmd); err != nil {
				t.Errorf("%s: CMD is not in exec form: %v", name, err)
			}
		}
		if want := []string{"dag", "worker", "--queues", queue}; !slices.Equal(cmd, want) {
			t.Errorf("%s: CMD %q, want %q", name, cmd, want)
		}
		if e := s.find("ENTRYPOINT"); len(e) == 0 || !strings.Contains(e[0].args, "tini") {
			t.Errorf("%s: no init process to forward SIGTERM and reap plugins", name)
		}
	}

	// Files the Dockerfile copies from the context exist (the context is
	// the repository root).
	for _, s := range stages {
		for _, in := range s.find("COPY") {
			f := strings.Fields(in.args)
			if strings.HasPrefix(f[0], "--from=") {
				continue
			}
			for _, src := range f[:len(f)-1] {
				if strings.HasPrefix(src, "--") || src == "." {
					continue
				}
				if _, err := os.Stat(filepath.Join("..", src)); err != nil {
					t.Errorf("stage %s: COPY %s: %v", s.name, src, err)
				}
			}
		}
	}
}

func TestGPURequirementsPinned(t *testing.T) {
	data, err := os.ReadFile("requirements-gpu.txt")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, version, ok := strings.Cut(line, "==")
		if !ok || version == "" {
			t.Errorf("requirements-gpu.txt: %q is not pinned with ==", line)
		}
		names = append(names, name)
	}
	for _, want := range []string{"transformers", "peft"} {
		if !slices.Contains(names, want) {
			t.Errorf("requirements-gpu.txt lacks %s", want)
		}
	}
}

func TestScriptsParse(t *testing.T) {
	scripts, err := filepath.Glob(filepath.Join("temporal", "*.sh"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts under temporal/ (%v)", err)
	}
	for _, s := range scripts {
		if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", s, err, out)
		}
	}
}

// envAssignments splits an ENV instruction's K=V pairs (V optionally in
// double quotes).
func envAssignments(args string) map[string]string {
	out := map[string]string{}
	for _, m := range envPair.FindAllStringSubmatch(args, -1) {
		v := m[2]
		if strings.HasPrefix(v, `"`) {
			v = strings.Trim(v, `"`)
		}
		out[m[1]] = v
	}
	return out
}

var envPair = regexp.MustCompile(`(\w+)=("[^"]*"|\S*)`)

// goVersion is the go directive of the module's go.mod.
func goVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod: no go directive")
	}
	return string(m[1])
}

// TestMakefileBuildSettings checks that the Makefile, which every build,
// test and CI run goes through, exports exactly the build settings of
// gobuild.Env: otherwise `make build` and the worker images would give a
// plugin two digests, and their caches would never share a hit.
func TestMakefileBuildSettings(t *testing.T) {
	b, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	exports := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^export (\w+) *\??= *(.*)$`).FindAllStringSubmatch(string(b), -1) {
		exports[m[1]] = strings.TrimSpace(m[2])
	}
	for _, kv := range gobuild.Env {
		k, v, _ := strings.Cut(kv, "=")
		if exports[k] != v {
			t.Errorf("Makefile: export %s = %q, want %q", k, exports[k], v)
		}
	}
}
