package topo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// ErrNoDot says that Graphviz is not installed, so SVG, PNG and PDF cannot
// be drawn; DOT and Mermaid output need nothing.
var ErrNoDot = errors.New("drawing SVG, PNG or PDF needs Graphviz's dot, which is not installed " +
	"(apt-get install graphviz, or dnf install graphviz); --format dot and mermaid work without it")

// Render draws the topology through Graphviz's dot in format ("svg", "png"
// or "pdf") and writes the image to w.
func Render(ctx context.Context, w io.Writer, t *Topology, format string) error {
	if format != "svg" && format != "png" && format != "pdf" {
		return fmt.Errorf("render: format %q: want svg, png or pdf", format)
	}
	dot, err := exec.LookPath("dot")
	if err != nil {
		return ErrNoDot
	}
	var src bytes.Buffer
	if err := WriteDOT(&src, t); err != nil {
		return err
	}
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, dot, "-T"+format)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = &src, &out, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("render: %s -T%s: %w: %s", dot, format, err, strings.TrimSpace(stderr.String()))
	}
	_, err = w.Write(out.Bytes())
	return err
}
