//go:build unix && !linux

package host

import "syscall"

// sysProcAttr puts the plugin in its own process group. There is no
// parent-death signal outside Linux: a plugin outlives a dag killed with
// SIGKILL.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killGroup SIGKILLs the process group led by pid.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
