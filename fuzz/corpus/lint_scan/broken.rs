fn broken( {
    info!("this file does not parse");
