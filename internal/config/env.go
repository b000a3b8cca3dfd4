package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Key describes one configuration key.
type Key struct {
	Name   string // dotted TOML key, e.g. "http.listen"
	EnvVar string // its override, e.g. "RAMPART_HTTP_LISTEN"
}

// Keys lists every configuration key in declaration order.
func Keys() []Key {
	var keys []Key
	walk(reflect.ValueOf(&Config{}).Elem(), "", func(name string, _ reflect.Value) {
		keys = append(keys, Key{Name: name, EnvVar: envVarName(name)})
	})
	return keys
}

func envVarName(key string) string {
	return EnvVarPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// walk calls fn for each leaf field (one config key) under v.
func walk(v reflect.Value, prefix string, fn func(key string, field reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		if tag == "" || !f.IsExported() {
			continue
		}
		name := prefix + tag
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct && !implementsText(fv) {
			walk(fv, name+".", fn)
			continue
		}
		fn(name, fv)
	}
}

func implementsText(v reflect.Value) bool {
	_, ok := v.Addr().Interface().(encoding.TextUnmarshaler)
	return ok
}

// applyEnv sets every key named by a RAMPART_* variable. An unknown RAMPART_*
// variable is an error: a typo must not silently leave a default in force.
func applyEnv(cfg *Config, environ []string) error {
	byVar := map[string]reflect.Value{}
	keyOf := map[string]string{}
	walk(reflect.ValueOf(cfg).Elem(), "", func(name string, fv reflect.Value) {
		byVar[envVarName(name)] = fv
		keyOf[envVarName(name)] = name
	})
	var errs []error
	var unknown []string
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvVarPrefix) || name == EnvVarConfig {
			continue
		}
		fv, known := byVar[name]
		if !known {
			unknown = append(unknown, name)
			continue
		}
		if err := setFromString(fv, value); err != nil {
			errs = append(errs, fmt.Errorf("%s (from %s): %v", keyOf[name], name, err))
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		errs = append(errs, fmt.Errorf("unknown environment variable %s (no such config key)", name))
	}
	return errors.Join(errs...)
}

func setFromString(fv reflect.Value, s string) error {
	if u, ok := fv.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(s))
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		fv.SetBool(b)
	case reflect.Int64, reflect.Int:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		fv.SetInt(n)
	case reflect.Slice:
		if fv.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("cannot be set from the environment")
		}
		var items []string
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		fv.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}
