package s3test

import (
	"os/exec"
	"syscall"
)

// setPdeathsig kills the server when the test process dies without cleaning up.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
