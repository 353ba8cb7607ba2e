package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// maxLine bounds what is read as one answer; codes are far shorter.
const maxLine = 256

func isTerminal(f *os.File) bool {
	return f != nil && term.IsTerminal(int(f.Fd()))
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

// readHidden prompts on stderr and reads a line from the terminal on
// stdin without echoing it.
func (a *app) readHidden(prompt string) (string, error) {
	fmt.Fprint(a.stderr, prompt)
	b, err := term.ReadPassword(int(a.stdin.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", io.EOF
	}
	return string(b), nil
}
