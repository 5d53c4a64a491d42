package host

import "syscall"

// sysProcAttr puts the plugin in its own process group and has the kernel
// SIGKILL it when dag dies. Pdeathsig fires when the OS thread that
// started the plugin exits; Go keeps threads alive unless a goroutine
// locked to one exits while locked, which dag does not do.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup SIGKILLs the process group led by pid (the plugin's children);
// a group already gone is fine.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
