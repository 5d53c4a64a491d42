//go:build !unix

package host

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(int) {}
