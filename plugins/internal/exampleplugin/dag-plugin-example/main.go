// Command dag-plugin-example serves the toy backend of package
// exampleplugin. Its plugin name is its file name minus "dag-plugin-"; a
// file named like it plus ".problem" makes it report not ready. Run with
// the single argument "sleep-child" it sleeps for an hour (the child of
// spawn_child). A file named like it plus ".resource" sets its resource
// class (cpu or gpu), so tests can stand in a gpu plugin.
package main

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/internal/exampleplugin"
	"github.com/dagproject/dag/plugins/sdk"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "sleep-child" {
		time.Sleep(time.Hour)
		return
	}
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	resource, _ := os.ReadFile(exe + ".resource")
	sdk.Serve(exampleplugin.New(exampleplugin.Config{
		Name:         strings.TrimPrefix(filepath.Base(exe), "dag-plugin-"),
		ProblemFile:  exe + ".problem",
		ChildCommand: []string{exe, "sleep-child"},
		Resource:     plugins.Resource(strings.TrimSpace(string(resource))),
	}))
}
