package transform

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"

	"github.com/cdcd-dev/cdcd/event"
)

// The variables an expression sees (docs/transforms.md#expressions).
// namespace is a reserved word in CEL: the namespace is source.namespace.
const (
	varOp     = "op"
	varTable  = "table"
	varBefore = "before"
	varAfter  = "after"
	varKey    = "key"
	varSource = "source"
)

// newCELEnv returns the environment expressions are compiled in: the
// variables above, CEL's standard library and the strings extension.
func newCELEnv() (*cel.Env, error) {
	row := cel.MapType(cel.StringType, cel.DynType)
	return cel.NewEnv(
		cel.Variable(varOp, cel.StringType),
		cel.Variable(varTable, cel.StringType),
		cel.Variable(varBefore, row),
		cel.Variable(varAfter, row),
		cel.Variable(varKey, row),
		cel.Variable(varSource, cel.MapType(cel.StringType, cel.StringType)),
		ext.Strings(),
	)
}

// compiled is a type-checked expression ready to run.
type compiled struct {
	prg cel.Program
	out *cel.Type
}

// compile parses and type-checks expr in env.
func compile(env *cel.Env, expr string) (compiled, error) {
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		// The issues quote the expression itself (config text, not data)
		// with a caret under the fault.
		msg := strings.ReplaceAll(iss.Err().Error(), "<input>:", "")
		msg = strings.TrimPrefix(msg, "ERROR: ")
		msg = strings.ReplaceAll(msg, " (in container '')", "")
		return compiled{}, errors.New(strings.ReplaceAll(msg, "\n ERROR: ", "; "))
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return compiled{}, err
	}
	return compiled{prg: prg, out: ast.OutputType()}, nil
}

// activation gives an expression the variables of one event. It converts
// only what the expression reads, when it reads it: the rows are wrapped,
// not copied into maps. One activation serves one transform; it is not safe
// for concurrent use.
type activation struct {
	e                  *event.Event
	before, after, key rowVal
	source             sourceVal

	names     event.TableID // the table whose name is cached in tableName
	tableName ref.Val
}

// opVals holds the op strings as CEL values, so resolving op never allocates.
var opVals = func() (v [256]ref.Val) {
	for i := range v {
		v[i] = types.String(event.Op(i).String())
	}
	return v
}()

// set points the activation at e.
func (a *activation) set(e *event.Event) {
	a.e = e
	a.before = rowVal{row: e.Before, schema: e.Schema}
	a.after = rowVal{row: e.After, schema: e.Schema}
	a.key = rowVal{row: e.Key, schema: e.Schema}
	a.source.e = e
}

// reset drops the activation's references to the last event.
func (a *activation) reset() {
	a.e = nil
	a.before, a.after, a.key = rowVal{}, rowVal{}, rowVal{}
	a.source.e = nil
}

// ResolveName implements interpreter.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case varOp:
		return opVals[a.e.Op], true
	case varTable:
		if a.tableName == nil || a.e.Table != a.names {
			a.names = a.e.Table
			a.tableName = types.String(a.e.Table.String())
		}
		return a.tableName, true
	case varBefore:
		return &a.before, true
	case varAfter:
		return &a.after, true
	case varKey:
		return &a.key, true
	case varSource:
		return &a.source, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *activation) Parent() interpreter.Activation { return nil }

// eval runs p on the event the activation points at. Evaluation errors
// wrap ErrEval; their text has quoted parts removed, since evaluators quote
// the values they fail on.
func (a *activation) eval(p cel.Program) (ref.Val, error) {
	out, _, err := p.Eval(a)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrEval, scrub(err.Error()))
	}
	return out, nil
}

// scrub replaces the quoted parts of an evaluator's message ('…', "…",
// `…`) with an ellipsis, but for the names of CEL types.
func scrub(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c != '\'' && c != '"' && c != '`' {
			b.WriteByte(c)
			continue
		}
		j := strings.IndexByte(msg[i+1:], c)
		if j < 0 {
			b.WriteString("…")
			break
		}
		if q := msg[i+1 : i+1+j]; celTypeNames[q] {
			b.WriteString(q)
		} else {
			b.WriteString("…")
		}
		i += j + 1
	}
	return b.String()
}

// celTypeNames are the type names evaluators quote in their messages.
var celTypeNames = map[string]bool{
	"bool": true, "int": true, "uint": true, "double": true, "string": true, "bytes": true, "list": true,
	"map": true, "null_type": true, "type": true, "dyn": true, "google.protobuf.Timestamp": true,
	"google.protobuf.Duration": true, "timestamp": true, "duration": true,
}

// rowVal presents an event.Row to CEL as a map from column name to value.
// Selecting a column converts its value; a column the row lacks but the
// schema has (deletes, unchanged TOAST values, a key row's other columns)
// reads as null, one the schema does not have is an error ("no such
// column"), and without a schema every absent column reads as null.
// has(row.col) and 'col' in row test whether the row holds the column.
//
// rowVal deliberately is not a traits.Mapper: CEL would then use Find both
// to select and to test presence, and the two must differ here.
type rowVal struct {
	row    event.Row
	schema *event.TableSchema
}

var (
	_ traits.Indexer     = (*rowVal)(nil)
	_ traits.FieldTester = (*rowVal)(nil)
	_ traits.Container   = (*rowVal)(nil)
	_ traits.Iterable    = (*rowVal)(nil)
	_ traits.Sizer       = (*rowVal)(nil)
)

// Get implements traits.Indexer.
func (r *rowVal) Get(key ref.Val) ref.Val {
	k, ok := key.(types.String)
	if !ok {
		return types.NewErr("no such overload: row index must be a string, got %s", key.Type().TypeName())
	}
	if v, ok := r.row.Get(string(k)); ok {
		return celValue(v)
	}
	if r.schema == nil || r.schema.Column(string(k)) != nil {
		return types.NullValue
	}
	return types.NewErr("no such column %s in %s", string(k), r.schema.Table)
}

// IsSet implements traits.FieldTester: has(row.col).
func (r *rowVal) IsSet(key ref.Val) ref.Val { return r.Contains(key) }

// Contains implements traits.Container: 'col' in row.
func (r *rowVal) Contains(key ref.Val) ref.Val {
	k, ok := key.(types.String)
	if !ok {
		return types.False
	}
	_, found := r.row.Get(string(k))
	return types.Bool(found)
}

// Size implements traits.Sizer.
func (r *rowVal) Size() ref.Val { return types.Int(len(r.row)) }

// Iterator implements traits.Iterable, over the column names.
func (r *rowVal) Iterator() traits.Iterator { return &rowIter{row: r.row} }

// ConvertToNative implements ref.Val.
func (r *rowVal) ConvertToNative(t reflect.Type) (any, error) {
	return r.materialize().ConvertToNative(t)
}

// ConvertToType implements ref.Val.
func (r *rowVal) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.MapType:
		return r
	case types.TypeType:
		return types.MapType
	}
	return types.NewErr("type conversion error from map to %s", t.TypeName())
}

// Equal implements ref.Val.
func (r *rowVal) Equal(other ref.Val) ref.Val { return r.materialize().Equal(other) }

// Type implements ref.Val.
func (r *rowVal) Type() ref.Type { return types.MapType }

// Value implements ref.Val.
func (r *rowVal) Value() any { return r.row }

// materialize converts the whole row into a CEL map, for the rare
// operations that need all of it (equality, conversion to native).
func (r *rowVal) materialize() traits.Mapper {
	m := make(map[ref.Val]ref.Val, len(r.row))
	for _, f := range r.row {
		m[types.String(f.Name)] = celValue(f.Value)
	}
	return types.NewRefValMap(types.DefaultTypeAdapter, m)
}

// rowIter iterates over a row's column names.
type rowIter struct {
	row event.Row
	i   int
}

func (it *rowIter) HasNext() ref.Val { return types.Bool(it.i < len(it.row)) }

func (it *rowIter) Next() ref.Val {
	if it.i >= len(it.row) {
		return nil
	}
	it.i++
	return types.String(it.row[it.i-1].Name)
}

func (it *rowIter) ConvertToNative(reflect.Type) (any, error) {
	return nil, errors.New("type conversion on iterators not supported")
}
func (it *rowIter) ConvertToType(ref.Type) ref.Val {
	return types.NewErr("no such overload")
}
func (it *rowIter) Equal(ref.Val) ref.Val { return types.NewErr("no such overload") }
func (it *rowIter) Type() ref.Type        { return types.IteratorType }
func (it *rowIter) Value() any            { return nil }

// sourceVal presents an event's source to CEL as a map with the keys of
// the native envelope's source object that are strings: kind, db,
// pipeline, namespace and table (the table's name, without namespace).
type sourceVal struct{ e *event.Event }

var sourceKeys = []string{"kind", "db", "pipeline", "namespace", "table"}

func (s *sourceVal) field(k string) (string, bool) {
	var info event.SourceInfo
	if s.e.Source != nil {
		info = *s.e.Source
	}
	switch k {
	case "kind":
		return info.Kind, true
	case "db":
		return info.DB, true
	case "pipeline":
		return info.Pipeline, true
	case "namespace":
		return s.e.Table.Namespace, true
	case "table":
		return s.e.Table.Name, true
	}
	return "", false
}

func (s *sourceVal) Get(key ref.Val) ref.Val {
	if k, ok := key.(types.String); ok {
		if v, ok := s.field(string(k)); ok {
			return types.String(v)
		}
		return types.NewErr("no such key: %s (source has kind, db, pipeline, namespace, table)", string(k))
	}
	return types.NewErr("no such overload: source index must be a string")
}

func (s *sourceVal) IsSet(key ref.Val) ref.Val { return s.Contains(key) }

func (s *sourceVal) Contains(key ref.Val) ref.Val {
	k, ok := key.(types.String)
	if !ok {
		return types.False
	}
	_, found := s.field(string(k))
	return types.Bool(found)
}

func (s *sourceVal) Size() ref.Val               { return types.Int(len(sourceKeys)) }
func (s *sourceVal) Iterator() traits.Iterator   { return s.materialize().Iterator() }
func (s *sourceVal) Equal(other ref.Val) ref.Val { return s.materialize().Equal(other) }
func (s *sourceVal) Type() ref.Type              { return types.MapType }
func (s *sourceVal) Value() any                  { return s.e.Source }

func (s *sourceVal) ConvertToNative(t reflect.Type) (any, error) {
	return s.materialize().ConvertToNative(t)
}

func (s *sourceVal) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.MapType:
		return s
	case types.TypeType:
		return types.MapType
	}
	return types.NewErr("type conversion error from map to %s", t.TypeName())
}

func (s *sourceVal) materialize() traits.Mapper {
	m := make(map[string]string, len(sourceKeys))
	for _, k := range sourceKeys {
		m[k], _ = s.field(k)
	}
	return types.NewStringStringMap(types.DefaultTypeAdapter, m)
}

// celValue converts a column value to a CEL value: bool, int, uint,
// double, string (decimal, string, text), bytes, timestamp (finite
// instants), null, a list (arrays) or the parsed document (JSON; numbers
// become doubles). Dates, wall-clock date-times, times and infinite
// instants become their native JSON text ("2026-01-02", "infinity").
func celValue(v event.Value) ref.Val {
	switch v.Kind() {
	case event.KindNull:
		return types.NullValue
	case event.KindBool:
		return types.Bool(v.Bool())
	case event.KindInt:
		return types.Int(v.Int())
	case event.KindUint:
		return types.Uint(v.Uint())
	case event.KindFloat:
		return types.Double(v.Float())
	case event.KindDecimal, event.KindString, event.KindText:
		return types.String(v.Str())
	case event.KindBytes:
		return types.Bytes(v.BytesView())
	case event.KindTimestamp:
		if t, ok := v.Time(); ok {
			return types.Timestamp{Time: t}
		}
	case event.KindJSON:
		var doc any
		if err := json.Unmarshal([]byte(v.Str()), &doc); err != nil {
			return types.NewErr("invalid JSON value")
		}
		return types.DefaultTypeAdapter.NativeToValue(doc)
	case event.KindArray:
		elems := v.Elems()
		out := make([]ref.Val, len(elems))
		for i, el := range elems {
			out[i] = celValue(el)
		}
		return types.NewRefValList(types.DefaultTypeAdapter, out)
	}
	return types.String(textOf(nil, v))
}

// textOf appends the text form of v to b: the text itself for decimals,
// strings, text and JSON, the raw bytes for bytes, and the native JSON
// rendering without quotes for the other kinds.
func textOf(b []byte, v event.Value) []byte {
	switch v.Kind() {
	case event.KindDecimal, event.KindString, event.KindText, event.KindJSON, event.KindBytes:
		return append(b, v.Str()...)
	}
	start := len(b)
	b = v.AppendJSON(b)
	if n := len(b) - start; n >= 2 && b[start] == '"' && b[len(b)-1] == '"' {
		copy(b[start:], b[start+1:len(b)-1])
		b = b[:len(b)-2]
	}
	return b
}

// kindOfType returns the value kind a CEL result of type t is stored as.
func kindOfType(t *cel.Type) (event.Kind, bool) {
	switch t.Kind() {
	case types.BoolKind:
		return event.KindBool, true
	case types.IntKind:
		return event.KindInt, true
	case types.UintKind:
		return event.KindUint, true
	case types.DoubleKind:
		return event.KindFloat, true
	case types.StringKind:
		return event.KindString, true
	case types.BytesKind:
		return event.KindBytes, true
	case types.TimestampKind:
		return event.KindTimestamp, true
	case types.DurationKind:
		return event.KindTime, true
	}
	return 0, false
}

// eventValue converts a CEL result back into a column value.
func eventValue(v ref.Val) (event.Value, error) {
	switch x := v.(type) {
	case types.Null:
		return event.Null(), nil
	case types.Bool:
		return event.Bool(bool(x)), nil
	case types.Int:
		return event.Int(int64(x)), nil
	case types.Uint:
		return event.Uint(uint64(x)), nil
	case types.Double:
		return event.Float(float64(x)), nil
	case types.String:
		return event.String(string(x)), nil
	case types.Bytes:
		return event.Bytes(x), nil
	case types.Timestamp:
		return event.TimestampOf(x.Time), nil
	case types.Duration:
		return event.Time(x.Duration.Microseconds()), nil
	}
	return event.Value{}, fmt.Errorf("%w: result of type %s cannot be stored in a column", ErrEval, v.Type().TypeName())
}
