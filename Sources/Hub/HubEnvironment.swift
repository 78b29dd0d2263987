#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the Hub is and how to reach it, read from the same environment variables as
/// huggingface_hub: `HF_ENDPOINT`, `HF_HUB_CACHE` (or `HUGGINGFACE_HUB_CACHE`, `HF_HOME/hub`,
/// `XDG_CACHE_HOME/huggingface/hub`, `~/.cache/huggingface/hub`), `HF_TOKEN` (or
/// `HUGGING_FACE_HUB_TOKEN`, or the file `huggingface-cli login` writes: `HF_TOKEN_PATH`,
/// `HF_HOME/token`) and `HF_HUB_OFFLINE` (or `TRANSFORMERS_OFFLINE`).
public struct HubEnvironment: Sendable {
    /// The Hub's base URL, without a trailing slash.
    public var endpoint: String
    /// The cache folder (holding `models--org--name/…`).
    public var cacheDirectory: String
    /// The access token, if any. Never printed: `description` leaves it out.
    public var token: String?
    /// No network at all: everything must come from the cache.
    public var offline: Bool

    public init(endpoint: String = "https://huggingface.co", cacheDirectory: String, token: String? = nil, offline: Bool = false) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.cacheDirectory = cacheDirectory
        self.token = token
        self.offline = offline
    }

    /// The environment of this process.
    public static func current() -> HubEnvironment { from(ProcessInfo.processInfo.environment) }

    /// Reads the settings from an environment dictionary (tests pass their own).
    public static func from(_ env: [String: String]) -> HubEnvironment {
        func value(_ name: String) -> String? {
            guard let v = env[name], !v.isEmpty else { return nil }
            return v
        }
        let home = value("HOME") ?? "/root"
        func expand(_ path: String) -> String { path.hasPrefix("~/") ? home + path.dropFirst(1) : path }
        let hfHome = expand(value("HF_HOME") ?? ((value("XDG_CACHE_HOME").map(expand) ?? home + "/.cache") + "/huggingface"))
        let cache = expand(value("HF_HUB_CACHE") ?? value("HUGGINGFACE_HUB_CACHE") ?? hfHome + "/hub")
        var token = value("HF_TOKEN") ?? value("HUGGING_FACE_HUB_TOKEN")
        if token == nil {
            let path = expand(value("HF_TOKEN_PATH") ?? hfHome + "/token")
            if let data = FileManager.default.contents(atPath: path) {
                let text = String(decoding: data, as: UTF8.self).trimmed()
                if !text.isEmpty { token = text }
            }
        }
        let offline = isTrue(value("HF_HUB_OFFLINE") ?? value("TRANSFORMERS_OFFLINE"))
        return HubEnvironment(endpoint: value("HF_ENDPOINT") ?? "https://huggingface.co", cacheDirectory: cache,
                              token: token, offline: offline)
    }

    /// huggingface_hub's truthy values: 1, ON, YES, TRUE (any case).
    static func isTrue(_ value: String?) -> Bool {
        guard let value else { return false }
        return ["1", "ON", "YES", "TRUE"].contains(value.uppercased())
    }
}
