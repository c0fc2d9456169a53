//! LiteLLM-compatible `config.yaml`, parsed once into typed structs.
//!
//! Nothing downstream of this crate reads YAML: the binary calls [`load`] (or [`parse`] in
//! tests), gets a [`Config`] plus a list of human-readable [`Warning`]s, and hands typed pieces to
//! the engines. Three rules shape the parser, all taken from LiteLLM's behaviour so that an
//! existing config keeps working:
//!
//! * `os.environ/NAME` anywhere in the tree is replaced by the variable's value ([`env`]).
//! * Unknown keys are reported as warnings, never errors: configs written for newer or older
//!   LiteLLM versions must still start.
//! * A wrong type or a missing required field is an error naming the YAML path, e.g.
//!   `model_list[1].litellm_params.model: expected "provider/model"`.

mod env;
mod load;
mod model;

pub use load::{ConfigError, Loaded, Warning, load, parse};
pub use model::{
    Config, GeneralSettings, LitellmParams, LitellmSettings, McpServerConfig, ModelEntry,
    ProviderModel,
};
