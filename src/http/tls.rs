//! TLS for the metrics server (feature `tls`): rustls with the ring provider.

#[cfg(feature = "tls")]
mod imp {
    use std::sync::Arc;

    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

    use crate::error::Error;
    use crate::http::options::TlsFiles;

    pub(crate) type Acceptor = tokio_rustls::TlsAcceptor;

    fn tls_err(path: &std::path::Path, message: impl std::fmt::Display) -> Error {
        Error::Tls {
            path: path.to_owned(),
            message: message.to_string(),
        }
    }

    /// Loads the files now, so a bad path or key is reported before serving.
    pub(crate) fn acceptor(files: Option<&TlsFiles>) -> Result<Option<Acceptor>, Error> {
        let Some(files) = files else {
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
    /// Without the `tls` feature there is no acceptor: this type has no values.
    #[derive(Clone)]
    pub(crate) enum Acceptor {}

    impl Acceptor {
        pub(crate) async fn accept<S>(&self, _stream: S) -> std::io::Result<S> {
            match *self {}
        }
    }
}

#[cfg(feature = "tls")]
pub(crate) use imp::acceptor;
pub(crate) use imp::Acceptor;
