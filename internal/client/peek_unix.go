//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package client

import (
	"net"
	"syscall"
)

// peerClosed reports whether the server closed an idle connection (or sent
// what it should not have, such as a 408 before closing): a non-blocking
// peek at the socket finds the end of the stream, an error, or bytes.
func peerClosed(raw net.Conn) bool {
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	var buf [1]byte
	closed := false
	err = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = n > 0 || err == nil || err != syscall.EAGAIN && err != syscall.EWOULDBLOCK && err != syscall.EINTR
		return true // never wait for the socket to be readable
	})
	return closed || err != nil
}
