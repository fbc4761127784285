package storage

import (
	"database/sql/driver"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	msqlite "modernc.org/sqlite"
)

const (
	postgresName = "postgres"
	sqliteName   = "sqlite"
)

// dialect is everything that differs between Postgres and SQLite. The SQL
// in the repositories is otherwise shared, with ? placeholders rebound.
type dialect struct {
	name   string
	driver string
	goose  goose.Dialect
	// lock is appended to the SELECT that reads the row a transaction will
	// update. SQLite needs none: it serialises writers (one connection,
	// immediate transactions).
	lock string
	// lower is the function that lowercases text for a case-insensitive
	// match: SQLite's LOWER folds only ASCII, so it gets Go's.
	lower string
}

var (
	postgres = dialect{name: postgresName, driver: "postgres", goose: goose.DialectPostgres, lock: " FOR UPDATE", lower: "LOWER"}
	sqlite   = dialect{name: sqliteName, driver: "sqlite", goose: goose.DialectSQLite3, lower: "unicode_lower"}
)

// unicode_lower is LOWER for every script on SQLite ("Émile" finds
// "émile"), as Postgres's is.
func init() {
	msqlite.MustRegisterDeterministicScalarFunction("unicode_lower", 1,
		func(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			if s, ok := args[0].(string); ok {
				return strings.ToLower(s), nil
			}
			return args[0], nil
		})
}

// sqliteDSN turns a file path into modernc's DSN: WAL so readers never wait
// for the writer, a busy timeout so another process's write is waited for,
// foreign keys for ON DELETE CASCADE, immediate transactions so two writers
// never deadlock on a lock upgrade.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	return "file:" + path + "?" + q.Encode()
}

func (d dialect) configure(db *sqlx.DB) {
	if d.name == sqliteName {
		// One connection: SQLite has one writer anyway, and a second
		// connection would only wait on the file lock.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		return
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
}
