package hf

import (
	"os"
	"syscall"
)

// sysProcAttr puts the worker in its own process group (its own children,
// such as data-loader processes, go with it) and has the kernel SIGKILL it
// when the plugin dies, so no worker outlives its plugin.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the worker's process group; a group already
// gone is fine.
func signalGroup(p *os.Process, sig syscall.Signal) {
	if p != nil && p.Pid > 0 {
		_ = syscall.Kill(-p.Pid, sig)
	}
}
