// Package stdlib embeds ovnrun's standard runbook libraries, loaded from a
// runbook as load("@stdlib//NAME.star", ...). They are plain Starlark built on
// the builtins; `ovnrun doc` documents the builtins, each library documents
// itself in its header comment.
package stdlib

import "embed"

// FS holds the libraries.
//
//go:embed *.star
var FS embed.FS
