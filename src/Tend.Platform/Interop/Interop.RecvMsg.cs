using System.Runtime.InteropServices;

namespace Tend;

internal static partial class Interop
{
    internal static partial class Sys
    {
        internal const int EAGAIN = 11; // also EWOULDBLOCK on Linux
        internal const int MSG_CTRUNC = 0x8, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_CMSG_CLOEXEC = 0x40000000;
        internal const int SCM_RIGHTS = 1, SCM_CREDENTIALS = 2;

        // The 64-bit Linux layouts; sequential layout reproduces C's padding (4 bytes after
        // msg_namelen and after msg_flags).
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct MsgHdr
        {
            public void* Name;
            public uint NameLen;
            public IoVec* Iov;
            public nuint IovLen;
            public void* Control;
            public nuint ControlLen;
            public int Flags;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct IoVec
        {
            public void* Base;
            public nuint Len;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct CMsgHdr
        {
            public nuint Len;
            public int Level;
            public int Type;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct UCred
        {
            public int Pid;
            public uint Uid;
            public uint Gid;
        }

        /// <summary>CMSG_ALIGN: control messages are padded to the size of a size_t.</summary>
        internal static int CMsgAlign(int length) => (length + IntPtr.Size - 1) & ~(IntPtr.Size - 1);

        /// <summary>CMSG_SPACE: room for one control message carrying <paramref name="dataLength"/> bytes.</summary>
        internal static unsafe int CMsgSpace(int dataLength) => CMsgAlign(sizeof(CMsgHdr)) + CMsgAlign(dataLength);

        [LibraryImport(Libraries.Libc, EntryPoint = "recvmsg", SetLastError = true)]
        internal static unsafe partial nint RecvMsg(int fd, MsgHdr* msg, int flags);
    }
}
