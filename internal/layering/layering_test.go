package layering

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/dagproject/dag/"

// pkg is what `go list -json` says of a package that matters here.
type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
}

// rule forbids packages under a folder to import some others directly.
type rule struct {
	under  string   // module-relative folder ("study")
	forbid []string // see matches
	why    string
}

var rules = []rule{
	{"study", []string{"go.temporal.io/", "github.com/minio/", "plugins", "activities", "workflows"}, "study is pure: the spec, the compiler and keys"},
	{"eval", []string{"go.temporal.io/", "github.com/minio/", "plugins", "activities", "workflows"}, "eval is pure: tasks, metrics and SafeNLP"},
	{"artifacts", []string{"study", "workflows", "activities", "plugins"}, "the store knows nothing of stages"},
	{"plugins", []string{"go.temporal.io/", "workflows", "activities"}, "plugins know nothing of Temporal"},
	{"workflows", []string{"os", "artifacts/fs", "artifacts/s3", "plugins/host"}, "workflow code does no I/O"},
}

// envReaders are the calls that read the process environment.
var envReaders = map[string]bool{"Getenv": true, "LookupEnv": true, "Environ": true, "ExpandEnv": true}

// envForwarders may read the environment to hand it to a child process
// they start (a plugin's Python worker, the go tool in tests).
var envForwarders = map[string]bool{"plugins/hf": true, "internal/gobuild": true}

func packages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	return pkgs
}

func rel(importPath string) string { return strings.TrimPrefix(importPath, module) }

// matches reports whether import path imp is what forbid names: a
// prefix of an outside module (with a dot: "go.temporal.io/"), a standard
// package ("os"), or a folder of this module ("plugins").
func matches(imp, forbid string) bool {
	switch {
	case strings.Contains(forbid, "."):
		return strings.HasPrefix(imp, forbid)
	case strings.HasPrefix(imp, module):
		return within(rel(imp), forbid)
	}
	return imp == forbid
}

func within(path, folder string) bool { return path == folder || strings.HasPrefix(path, folder+"/") }

// TestDependencyRules checks every rule on each package's direct imports
// (test files excluded).
func TestDependencyRules(t *testing.T) {
	for _, p := range packages(t) {
		r := rel(p.ImportPath)
		for _, ru := range rules {
			if !within(r, ru.under) {
				continue
			}
			for _, imp := range p.Imports {
				for _, f := range ru.forbid {
					if matches(imp, f) {
						t.Errorf("%s imports %s: %s (docs/architecture.md)", r, imp, ru.why)
					}
				}
			}
		}
	}
}

// TestOnlyCommandsReadTheEnvironment checks that no library package reads
// environment variables: cmd/ wires configuration in, so every package
// can be used and tested with explicit settings. Test-support packages
// (named *test) and packages that forward the environment to a child
// process they start are allowed.
func TestOnlyCommandsReadTheEnvironment(t *testing.T) {
	for _, p := range packages(t) {
		r := rel(p.ImportPath)
		if within(r, "cmd") || strings.HasSuffix(r, "test") || envForwarders[r] {
			continue
		}
		for _, name := range p.GoFiles {
			path := filepath.Join(p.Dir, name)
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			osName := ""
			for _, imp := range f.Imports {
				if imp.Path.Value == `"os"` {
					osName = "os"
					if imp.Name != nil {
						osName = imp.Name.Name
					}
				}
			}
			if osName == "" {
				continue
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == osName && envReaders[sel.Sel.Name] {
					t.Errorf("%s/%s calls os.%s: only cmd/ reads the environment", r, name, sel.Sel.Name)
				}
				return true
			})
		}
	}
}
