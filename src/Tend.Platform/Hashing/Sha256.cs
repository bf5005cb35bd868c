using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;

namespace Tend.Hashing;

/// <summary>
/// SHA-256 and HMAC-SHA256 in managed code, for names derived from paths (cgroups, notify sockets),
/// the audit trail's chain, alert fingerprints and webhook signatures.
/// </summary>
/// <remarks>
/// Not System.Security.Cryptography: on Linux it calls OpenSSL, and the first hash loads libcrypto
/// and libssl into the process and initialises them, about 4 MB of resident memory for a daemon
/// that hashes a path at start-up and a line per audit record (docs/architecture.md). BouncyCastle's
/// digests are plain managed code; the results are the same bytes, so names hashed by an older
/// daemon are found by this one.
/// </remarks>
public static class Sha256
{
    /// <summary>The 32-byte SHA-256 digest of <paramref name="data"/>.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var digest = new Sha256Digest();
        digest.BlockUpdate(data);
        byte[] hash = new byte[digest.GetDigestSize()];
        digest.DoFinal(hash);
        return hash;
    }

    /// <summary>The 32-byte HMAC-SHA256 of <paramref name="data"/> under <paramref name="key"/>.</summary>
    public static byte[] Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        var mac = new HMac(new Sha256Digest());
        mac.Init(new KeyParameter(key));
        mac.BlockUpdate(data);
        byte[] hash = new byte[mac.GetMacSize()];
        mac.DoFinal(hash);
        return hash;
    }
}
