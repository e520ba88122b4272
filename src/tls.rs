//! TLS for the metrics server (feature `tls`): rustls with the ring provider.

#[cfg(feature = "tls")]
mod imp {
    use std::sync::Arc;

    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

    use crate::server::ServerOptions;
    use crate::Error;

    pub(crate) type Acceptor = tokio_rustls::TlsAcceptor;

    fn tls_err(path: &std::path::Path, message: impl std::fmt::Display) -> Error {
        Error::Tls {
            path: path.to_owned(),
            message: message.to_string(),
        }
    }

    /// Loads the files now, so a bad path or key is reported before serving.
    pub(crate) fn acceptor(options: &ServerOptions) -> Result<Option<Acceptor>, Error> {
        let Some(files) = &options.tls else {
            return Ok(None);
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert_path)
            .map_err(|e| tls_err(&files.cert_path, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| tls_err(&files.cert_path, e))?;
        if certs.is_empty() {
            return Err(tls_err(&files.cert_path, "no PEM certificate found"));
        }
        let key = PrivateKeyDer::from_pem_file(&files.key_path)
            .map_err(|e| tls_err(&files.key_path, e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_err(&files.cert_path, e))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| tls_err(&files.key_path, e))?;
        Ok(Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))))
    }
}

#[cfg(not(feature = "tls"))]
mod imp {
    use crate::server::ServerOptions;
    use crate::Error;

    /// Without the `tls` feature there is no acceptor: this type has no values.
    #[derive(Clone)]
    pub(crate) enum Acceptor {}

    impl Acceptor {
        pub(crate) async fn accept(
            &self,
            _stream: tokio::net::TcpStream,
        ) -> std::io::Result<tokio::net::TcpStream> {
            match *self {}
        }
    }

    pub(crate) fn acceptor(_options: &ServerOptions) -> Result<Option<Acceptor>, Error> {
        Ok(None)
    }
}

pub(crate) use imp::{acceptor, Acceptor};
