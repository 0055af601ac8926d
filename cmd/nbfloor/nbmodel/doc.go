// Package nbmodel is libovsdb's modelgen output for the NB tables and
// columns ovnrun's NB driver monitors, for cmd/nbfloor. gen.sh makes it;
// every other file is generated.
package nbmodel

//go:generate ./gen.sh
