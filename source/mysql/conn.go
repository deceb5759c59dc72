package mysql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// queryTimeout bounds a catalog query whose context has no deadline.
const queryTimeout = 30 * time.Second

// metaConn is the source's normal connection, for the catalog: preflight,
// information_schema, binlog status. Its methods serialize use of the
// connection and are safe for concurrent use.
type metaConn struct {
	mu sync.Mutex
	c  *client.Conn
}

func connectMeta(ctx context.Context, d dsn) (*metaConn, error) {
	c, err := client.ConnectWithContext(ctx, d.addr, d.user, d.password, "", 10*time.Second)
	if err != nil {
		return nil, classifyConnError(err, d)
	}
	m := &metaConn{c: c}
	if _, err := m.query(ctx, "SET NAMES utf8mb4"); err != nil {
		c.Close()
		return nil, err
	}
	return m, nil
}

// classifyConnError turns an access-denied answer into a permanent error.
func classifyConnError(err error, d dsn) error {
	var me *gm.MyError
	if errors.As(err, &me) && (me.Code == gm.ER_ACCESS_DENIED_ERROR || me.Code == gm.ER_DBACCESS_DENIED_ERROR) {
		return &PermanentError{What: fmt.Sprintf("the server refused user %q", d.user), Err: err,
			Fix: "check the user and password in source.dsn"}
	}
	return fmt.Errorf("mysql source: connect to %s: %w", d.addr, err)
}

func (m *metaConn) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.c != nil {
		m.c.Close()
		m.c = nil
	}
}

// sqlRow is one row of a query result: nil for NULL, else a string (copied
// out of the driver's buffers), int64, uint64 or float64.
type sqlRow []any

// str returns column i as text ("" for NULL).
func (r sqlRow) str(i int) string {
	switch v := r[i].(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// query runs sql (a prepared statement when there are args) and returns
// the rows, with ctx's deadline (or queryTimeout) on the connection.
func (m *metaConn) query(ctx context.Context, sql string, args ...any) ([]sqlRow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.c == nil {
		return nil, ErrClosed
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(queryTimeout)
	}
	if err := m.c.SetDeadline(deadline); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { m.c.SetDeadline(time.Now()) })
	defer stop()
	r, err := m.c.Execute(sql, args...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	defer r.Close()
	if r.Resultset == nil {
		return nil, nil
	}
	rows := make([]sqlRow, len(r.Values))
	for i, vals := range r.Values {
		row := make(sqlRow, len(vals))
		for j := range vals {
			fv := &vals[j]
			switch fv.Type {
			case gm.FieldValueTypeNull:
			case gm.FieldValueTypeUnsigned:
				row[j] = fv.AsUint64()
			case gm.FieldValueTypeSigned:
				row[j] = fv.AsInt64()
			case gm.FieldValueTypeFloat:
				row[j] = fv.AsFloat64()
			default:
				row[j] = string(fv.AsString()) // a copy: the buffer goes back to a pool
			}
		}
		rows[i] = row
	}
	return rows, nil
}

// one returns the first row of a query, or nil.
func (m *metaConn) one(ctx context.Context, sql string, args ...any) (sqlRow, error) {
	rows, err := m.query(ctx, sql, args...)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}

// myErrorCode returns the server error code in err's chain, or 0.
func myErrorCode(err error) uint16 {
	var me *gm.MyError
	if errors.As(err, &me) {
		return me.Code
	}
	return 0
}

// quoteIdent backtick-quotes a MySQL identifier.
func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// quoteString single-quotes a MySQL string literal.
func quoteString(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
