package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxLine bounds what is read as one answer; codes are far shorter.
const maxLine = 256

func isTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// stdoutIsTerminal reports whether standard output is a terminal.
func (a *app) stdoutIsTerminal() bool {
	f, ok := a.stdout.(*os.File)
	return ok && isTerminal(f)
}

// readLine reads one line from r without its line ending. It returns
// io.EOF only when there is nothing at all before the end of the input.
func readLine(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		c, err := r.ReadByte()
		if errors.Is(err, io.EOF) && b.Len() > 0 {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return strings.TrimSuffix(b.String(), "\r"), nil
		}
		if b.Len() >= maxLine {
			return "", fmt.Errorf("input line longer than %d bytes", maxLine)
		}
		b.WriteByte(c)
	}
}

// readHidden reads a line from the terminal on stdin without echoing it.
// Echo is turned off before the prompt is shown, so that nothing typed
// ahead is echoed either, and turned back on however the read ends, an
// interrupting signal included.
func (a *app) readHidden(prompt string) (string, error) {
	fd := int(a.stdin.Fd())
	saved, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", err
	}
	quiet := *saved
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return "", err
	}
	restore := func() { unix.IoctlSetTermios(fd, unix.TCSETS, saved) }
	defer restore()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	defer func() {
		signal.Stop(sigs)
		close(done)
	}()
	go func() {
		select {
		case <-sigs:
			restore()
			fmt.Fprintln(a.stderr)
			os.Exit(exitFailed)
		case <-done:
		}
	}()

	fmt.Fprint(a.stderr, prompt)
	line, err := readLine(bufio.NewReader(a.stdin))
	fmt.Fprintln(a.stderr)
	return line, err
}
