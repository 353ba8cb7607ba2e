package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
)

// textScale is how many pixels wide a character of the terminal rendering
// becomes when it is turned back into an image; each of its two modules is
// as high.
const textScale = 6

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// textToImage turns the half-block rendering back into a picture.
func textToImage(t *testing.T, text string) image.Image {
	t.Helper()
	img, err := halfBlocksToImage(text)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// halfBlocksToImage turns the half-block rendering back into a picture,
// each character a 1x2 block of modules, as a terminal shows it. Colour
// escapes are dropped.
func halfBlocksToImage(text string) (image.Image, error) {
	lines := strings.Split(strings.TrimRight(ansiEscape.ReplaceAllString(text, ""), "\n"), "\n")
	width := len([]rune(lines[0]))
	img := image.NewGray(image.Rect(0, 0, width*textScale, len(lines)*2*textScale))
	for row, line := range lines {
		runes := []rune(line)
		if len(runes) != width {
			return nil, fmt.Errorf("line %d has %d characters, want %d", row, len(runes), width)
		}
		for col, r := range runes {
			var upper, lower bool
			switch r {
			case '█':
				upper, lower = true, true
			case '▀':
				upper = true
			case '▄':
				lower = true
			case ' ':
			default:
				return nil, fmt.Errorf("line %d: unexpected character %q", row, r)
			}
			fillModule(img, col, 2*row, upper)
			fillModule(img, col, 2*row+1, lower)
		}
	}
	return img, nil
}

func fillModule(img *image.Gray, x, y int, dark bool) {
	c := color.Gray{Y: 255}
	if dark {
		c = color.Gray{Y: 0}
	}
	for dy := range textScale {
		for dx := range textScale {
			img.SetGray(x*textScale+dx, y*textScale+dy, c)
		}
	}
}

// decodeQR reads a QR code from an image with gozxing, an implementation
// independent of the encoder.
func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decoding the QR code: %v", err)
	}
	return res.GetText()
}

var qrTexts = []string{
	"otpauth://totp/Test%20Host:alice?secret=XGPHPTJ45THGSXW5DQLPUDU7QBEMOGE6&issuer=Test%20Host",
	"otpauth://totp/a:b?secret=JBSWY3DPEHPK3PXP&issuer=a",
	"otpauth://totp/bastion.example.com:some.long.user.name@example.com?secret=" +
		strings.Repeat("ABCDEFGH", 13) + "&issuer=bastion.example.com&algorithm=SHA512&digits=8&period=60",
}

func TestTerminalQRDecodes(t *testing.T) {
	for _, text := range qrTexts {
		for _, colors := range []bool{false, true} {
			modules, err := qrModules(text)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := renderQR(&out, modules, colors); err != nil {
				t.Fatal(err)
			}
			if got := decodeQR(t, textToImage(t, out.String())); got != text {
				t.Errorf("colors %v: decoded %q, want %q", colors, got, text)
			}
		}
	}
}

// TestTerminalQRLayout checks the quiet zone, the explicit black on white
// on a terminal, and that the code fits an 80-column terminal.
func TestTerminalQRLayout(t *testing.T) {
	modules, err := qrModules(qrTexts[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range quietZone {
		n := len(modules)
		for j := range n {
			if modules[i][j] || modules[n-1-i][j] || modules[j][i] || modules[j][n-1-i] {
				t.Fatalf("a dark module in the quiet zone, %d modules from the edge", i)
			}
		}
	}
	if n := len(modules); n > 80 {
		t.Errorf("the code is %d modules wide, more than an 80-column terminal", n)
	}

	var out bytes.Buffer
	renderQR(&out, modules, true)
	for i, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if !strings.HasPrefix(line, darkOnLight) || !strings.HasSuffix(line, resetColors) {
			t.Fatalf("line %d is not set to black on white: %q", i, line)
		}
	}
	if rows := strings.Count(out.String(), "\n"); rows != (len(modules)+1)/2 {
		t.Errorf("%d lines for %d rows of modules, want two rows a line", rows, len(modules))
	}
}

func TestQRPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qr.png")
	if err := writeQRPNG(path, qrTexts[0]); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if got := decodeQR(t, img); got != qrTexts[0] {
		t.Errorf("decoded %q, want %q", got, qrTexts[0])
	}

	// The image holds the secret: never written over an existing file or
	// through a symbolic link.
	err = writeQRPNG(path, qrTexts[1])
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("writing over an existing file: err = %v, want 'already exists'", err)
	}
	link := filepath.Join(t.TempDir(), "link.png")
	target := filepath.Join(t.TempDir(), "target.png")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := writeQRPNG(link, qrTexts[1]); err == nil {
		t.Errorf("writing through a symbolic link succeeded")
	}
	if _, err := os.Lstat(target); err == nil {
		t.Errorf("the symbolic link's target was created")
	}
}
