package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is everything the process reads from its environment. Secret values (DatabaseURL,
// SentryDSN) are kept here only; nothing logs them.
type Config struct {
	Port          int
	DatabaseURL   string
	RedisURL      string
	SentryDSN     string
	ServiceName   string
	Environment   string
	LogFormat     string
	ShutdownGrace time.Duration
	DBMaxConns    int32
	// Configured lists which optional settings were given (names only), for the startup log.
	Configured []string
	// Sources says, for each secret that was set, whether it came from the env or a file, so an
	// operator can see the secret-file convention is in force without seeing the value.
	Sources map[string]string
}

// The optional settings whose presence (never their value) is logged at startup.
var optionalKeys = []string{
	"OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_RESOURCE_ATTRIBUTES",
	"LOG_FORMAT", "SLIPWAY_ENVIRONMENT",
}

// secretValue implements the secret delivery convention: `<KEY>_FILE` names a file holding the
// value (Docker uploads it to /run/secrets/<KEY>) and wins over a plain `<KEY>`, so the value never
// needs to be in the container's environment. Trailing newlines (an editor's or `echo`'s) are cut.
func secretValue(getenv func(string) string, readFile func(string) ([]byte, error), key string) (value, source string, err error) {
	if path := getenv(key + "_FILE"); path != "" {
		b, err := readFile(path)
		if err != nil {
			// The path is not secret; the content is, and is never in the error.
			return "", "", fmt.Errorf("%s_FILE=%s: cannot read the file: %w", key, path, unwrapPathErr(err))
		}
		return strings.TrimRight(string(b), "\r\n"), "file", nil
	}
	if v := getenv(key); v != "" {
		return v, "env", nil
	}
	return "", "", nil
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// LoadConfig reads the environment. It fails only on values that are present but unusable; a
// missing database is allowed so the process can start and answer /health.
func LoadConfig(getenv func(string) string, readFile func(string) ([]byte, error)) (Config, error) {
	c := Config{Port: 8080, ShutdownGrace: 8 * time.Second, DBMaxConns: 10, Sources: map[string]string{}}
	if p := getenv("PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("PORT=%q: must be an integer from 1 to 65535", p)
		}
		c.Port = n
	}
	if s := getenv("SHUTDOWN_GRACE_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 300 {
			return c, fmt.Errorf("SHUTDOWN_GRACE_SECONDS=%q: must be an integer from 0 to 300", s)
		}
		c.ShutdownGrace = time.Duration(n) * time.Second
	}
	if s := getenv("DB_MAX_CONNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return c, fmt.Errorf("DB_MAX_CONNS=%q: must be an integer from 1 to 1000", s)
		}
		c.DBMaxConns = int32(n)
	}
	var err error
	var src string
	if c.DatabaseURL, src, err = secretValue(getenv, readFile, "DATABASE_URL"); err != nil {
		return c, err
	} else if src != "" {
		c.Sources["DATABASE_URL"] = src
	}
	if c.RedisURL, src, err = secretValue(getenv, readFile, "REDIS_URL"); err != nil {
		return c, err
	} else if src != "" {
		c.Sources["REDIS_URL"] = src
	}
	if c.SentryDSN, src, err = secretValue(getenv, readFile, "SENTRY_DSN"); err != nil {
		return c, err
	} else if src != "" {
		c.Sources["SENTRY_DSN"] = src
	}
	c.ServiceName = getenv("OTEL_SERVICE_NAME")
	if c.ServiceName == "" {
		c.ServiceName = "example-api"
	}
	c.Environment = getenv("SLIPWAY_ENVIRONMENT")
	c.LogFormat = strings.ToLower(getenv("LOG_FORMAT"))
	switch c.LogFormat {
	case "", "json":
		c.LogFormat = "json"
	case "text":
	default:
		return c, fmt.Errorf("LOG_FORMAT=%q: must be json or text", c.LogFormat)
	}
	for _, k := range optionalKeys {
		if getenv(k) != "" {
			c.Configured = append(c.Configured, k)
		}
	}
	for k := range c.Sources {
		c.Configured = append(c.Configured, k)
	}
	sort.Strings(c.Configured)
	return c, nil
}
