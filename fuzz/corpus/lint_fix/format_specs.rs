fn f() { warn!("{:>5} {0:?} {name} {:.*} {{x}} {:1$}", a, 2, b, c, name = d); error!(target: "t", parent: &s, x = ?y, "z {}", w); tracing::event!(tracing::Level::DEBUG, event = %"a_b", "{}", q); }
