// Package stdlib embeds ovnrun's standard runbook libraries, loaded from a
// runbook as load("@stdlib//NAME.star", ...), and reads their documentation
// (Functions) for `ovnrun doc`. The libraries are plain Starlark built on the
// builtins; each public function has a doc string. It imports only
// go.starlark.net's parser.
package stdlib

import "embed"

// FS holds the libraries.
//
//go:embed *.star
var FS embed.FS
