package ovsdbmodel

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/jsontext"
)

// Transact sends ops to the database dbName at endpoint as one transaction,
// on a connection of its own, and returns the server's results: one per
// operation, and one more when the commit itself failed.
//
// The request is written by appendOperation rather than encoding/json: on
// the 12,000 operations of a 1,000-switch bulk build, libovsdb's client
// spent ~100 ms of CPU encoding them through reflection and the values'
// MarshalJSON methods before the server saw a byte, more than the rest of
// ovnrun's work on those rows. A connection lost before the reply is an
// error wrapping the read error (io.ErrUnexpectedEOF, a net.Error): the
// transaction may or may not have been committed. An ssl: endpoint takes
// the options' TLS configuration (WithTLS).
func Transact(ctx context.Context, endpoint, dbName string, ops []ovsdb.Operation, opts ...Option) ([]ovsdb.OperationResult, error) {
	conn, err := dial(ctx, endpoint, opts)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := writeRequest(conn, dbName, ops); err != nil {
		var enc *encodeError
		if errors.As(err, &enc) {
			return nil, err
		}
		return nil, ctxErr(ctx, err)
	}
	f := &framer{r: bufio.NewReaderSize(conn, 256<<10)}
	for {
		msg, err := f.next()
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		e, err := parseEnvelope(msg)
		if err != nil {
			return nil, err
		}
		if e.methodName() == "echo" {
			// The server's inactivity probe: answer, or a long
			// transaction is dropped before its reply.
			if _, err := conn.Write(echoReply(e)); err != nil {
				return nil, ctxErr(ctx, err)
			}
			continue
		}
		if string(e.id) != transactID {
			continue
		}
		if e.error != nil && string(e.error) != "null" {
			return nil, fmt.Errorf("transact: %s", e.error)
		}
		return parseResults(e.result)
	}
}

// transactID is the id of the one request a Transact connection carries.
const transactID = `"transact"`

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// echoReply is the answer to the server's echo request e.
func echoReply(e *envelope) []byte {
	params := e.params
	if params == nil {
		params = []byte("[]")
	}
	return fmt.Appendf(nil, `{"id":%s,"result":%s,"error":null}`, orNull(e.id), params)
}

// requestChunk is how much of the request is encoded before it is
// written: the server parses what it has while the rest is encoded.
const requestChunk = 128 << 10

// encodeError is an operation that could not be encoded. The request is
// then cut short, and the server, which never saw a whole request, runs
// nothing.
type encodeError struct{ err error }

func (e *encodeError) Error() string { return e.err.Error() }
func (e *encodeError) Unwrap() error { return e.err }

// writeRequest encodes the JSON-RPC request to w in chunks.
func writeRequest(w io.Writer, dbName string, ops []ovsdb.Operation) error {
	b := make([]byte, 0, requestChunk+4<<10)
	b = append(b, `{"id":`+transactID+`,"method":"transact","params":[`...)
	b = jsontext.AppendString(b, dbName)
	var err error
	for i := range ops {
		b = append(b, ',')
		if b, err = appendOperation(b, &ops[i]); err != nil {
			return &encodeError{fmt.Errorf("transact: operation %d (%s %s): %w", i, ops[i].Op, ops[i].Table, err)}
		}
		if len(b) >= requestChunk {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	_, err = w.Write(append(b, "]}"...))
	return err
}

// result is an <operation result> as the server sends it.
type result struct {
	Count   int             `json:"count"`
	Error   string          `json:"error"`
	Details string          `json:"details"`
	UUID    []string        `json:"uuid"`
	Rows    json.RawMessage `json:"rows"`
}

// parseResults decodes the result array; null entries (operations not run
// after an earlier one failed) are zero results.
func parseResults(data []byte) ([]ovsdb.OperationResult, error) {
	if out, ok := parseResultsPlain(data); ok {
		return out, nil
	}
	return parseResultsJSON(data)
}

// parseResultsJSON is parseResults through encoding/json, for any results.
func parseResultsJSON(data []byte) ([]ovsdb.OperationResult, error) {
	var raw []*result
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("transact reply: %w", err)
	}
	out := make([]ovsdb.OperationResult, len(raw))
	for i, r := range raw {
		if r == nil {
			continue
		}
		o := &out[i]
		o.Count, o.Error, o.Details = r.Count, r.Error, r.Details
		if len(r.UUID) == 2 {
			o.UUID = ovsdb.UUID{GoUUID: r.UUID[1]}
		}
		if len(r.Rows) > 0 {
			if err := json.Unmarshal(r.Rows, &o.Rows); err != nil {
				return nil, fmt.Errorf("transact reply: rows of result %d: %w", i, err)
			}
		}
	}
	return out, nil
}
