//! TLS for the metrics server (feature `tls`): rustls, with the process's default
//! `CryptoProvider` when the application installed one, ring otherwise.
//!
//! rustls 0.23.48 deprecated its ring provider because ring has no post-quantum key
//! exchange. An application that wants one installs aws-lc-rs as the process default
//! (`rustls::crypto::aws_lc_rs::default_provider().install_default()`) and the server
//! uses it; the crate itself stays on ring, which builds without cmake and adds no
//! C library of its own to every user of the `tls` feature.

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
        let provider = match rustls::crypto::CryptoProvider::get_default() {
            Some(installed) => Arc::clone(installed),
            // Deprecated for lack of post-quantum key exchange (see the module docs).
            #[allow(deprecated)]
            None => Arc::new(rustls::crypto::ring::default_provider()),
        };
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
