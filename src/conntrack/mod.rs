//! Connection tracking modelled on Linux nf_conntrack.
