using System.Security.Cryptography;
using System.Text;
using Tend.Hashing;

namespace Tend.Tests.Hashing;

/// <summary>
/// The managed SHA-256 must give the very bytes OpenSSL gave: cgroup and notify-socket names, audit
/// chains and alert fingerprints written by an older daemon are found and verified by this one.
/// </summary>
public sealed class Sha256Tests
{
    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    public void Hash_KnownVectors(string text, string hex) =>
        Assert.Equal(hex, Convert.ToHexStringLower(Sha256.Hash(Encoding.ASCII.GetBytes(text))));

    [Fact]
    public void Hash_SameBytesAsTheRuntimes_AtEveryLengthAroundABlock()
    {
        var random = new Random(15);
        for (int length = 0; length <= 200; length++)
        {
            byte[] data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(SHA256.HashData(data), Sha256.Hash(data));
        }
    }

    [Fact]
    public void Hmac_Rfc4231TestCase2_AndTheRuntimesBytes()
    {
        byte[] key = Encoding.ASCII.GetBytes("Jefe");
        byte[] data = Encoding.ASCII.GetBytes("what do ya want for nothing?");

        Assert.Equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", Convert.ToHexStringLower(Sha256.Hmac(key, data)));
        byte[] longKey = new byte[131]; // longer than a block: hashed first
        Array.Fill(longKey, (byte)0xaa);
        Assert.Equal(HMACSHA256.HashData(longKey, data), Sha256.Hmac(longKey, data));
    }
}
