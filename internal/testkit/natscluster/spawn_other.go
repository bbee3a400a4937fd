//go:build !linux

package natscluster

import "syscall"

func childAttr() *syscall.SysProcAttr { return nil }
