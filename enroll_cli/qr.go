package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	qrcode "github.com/skip2/go-qrcode"
)

// QR codes are made with github.com/skip2/go-qrcode, chosen because it is
// pure Go with no dependencies beyond the standard library, small enough to
// read, widely used, and encodes on this machine: the URI holds the secret,
// which must never go to a web service to be drawn. It is stable rather
// than active: it has no tagged release, and the version used, a commit of
// June 2020, is still its latest. The tests decode what it makes with
// zbarimg and gozxing, independent decoders.

// quietZone is the light margin around a QR code, in modules: the four
// that ISO/IEC 18004 asks for.
const quietZone = 4

// pngModule is the size of one module in a PNG, in pixels.
const pngModule = 8

// qrModules returns the modules of the QR code of text, true for dark,
// with the quiet zone around them.
func qrModules(text string) ([][]bool, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("making the QR code: %w", err)
	}
	q.DisableBorder = true
	inner := q.Bitmap()
	n := len(inner) + 2*quietZone
	out := make([][]bool, n)
	for y := range out {
		out[y] = make([]bool, n)
		if y >= quietZone && y < n-quietZone {
			copy(out[y][quietZone:], inner[y-quietZone])
		}
	}
	return out, nil
}

// ANSI escapes for black text on a white background, and back.
const (
	darkOnLight = "\x1b[30;47m"
	resetColors = "\x1b[0m"
)

// renderQR writes modules as text, each character one module wide and two
// high: '█' both dark, '▀' the upper dark, '▄' the lower dark, ' ' neither.
// The characters draw the dark modules, so on a terminal colors is true and
// each line is set to black on white explicitly: a dark terminal would
// otherwise draw the code inverted, which many phone cameras cannot read.
// Without colors (output to a file or a pipe) the text is meant for a light
// background.
func renderQR(w io.Writer, modules [][]bool, colors bool) error {
	var b strings.Builder
	for y := 0; y < len(modules); y += 2 {
		if colors {
			b.WriteString(darkOnLight)
		}
		for x := range modules[y] {
			upper := modules[y][x]
			lower := y+1 < len(modules) && modules[y+1][x]
			switch {
			case upper && lower:
				b.WriteString("█")
			case upper:
				b.WriteString("▀")
			case lower:
				b.WriteString("▄")
			default:
				b.WriteByte(' ')
			}
		}
		if colors {
			b.WriteString(resetColors)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeQRPNG writes the QR code of text as a PNG to path, which must not
// exist: the image holds the secret, so it is created with O_EXCL and
// mode 0600, without following a symbolic link.
func writeQRPNG(path, text string) (err error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("making the QR code: %w", err)
	}
	img, err := q.PNG(-pngModule)
	if err != nil {
		return fmt.Errorf("making the QR code image: %w", err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s already exists: the image holds the secret, so it is only written to a new file; remove it or name another", path)
	}
	if err != nil {
		return fmt.Errorf("writing the QR code image: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if _, err := f.Write(img); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Sync()
}
