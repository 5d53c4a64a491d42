//go:build !linux

package hf

import (
	"os"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

func signalGroup(p *os.Process, sig syscall.Signal) {
	if p != nil {
		if sig == syscall.SIGKILL {
			_ = p.Kill()
		} else {
			_ = p.Signal(sig)
		}
	}
}
